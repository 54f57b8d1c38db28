import assert from 'node:assert/strict';
import { allowedCpus, deviceInterrupts, formatCpuList, parseCpuList, planCpuLayout } from './cpu-layout';

// /proc/interrupts as this kind of machine prints it (a virtio disk's queue on CPU1)
const INTERRUPTS = `           CPU0       CPU1
 31:          0       8139 PCI-MSIX-0000:00:01.0   3-edge      virtio0-stats
 36:          0   24142460 PCI-MSIX-0000:00:02.0   1-edge      virtio1-req.0
 39:      69505          0 PCI-MSIX-0000:00:03.0   2-edge      virtio2-output.0
 41:      10327          0 PCI-MSIX-0000:00:04.0   1-edge      virtio3-rx
NMI:          0          0   Non-maskable interrupts
LOC:    8281748    8212351   Local timer interrupts
RES:    6105979    5384483   Rescheduling interrupts
ERR:          0
`;

describe('the server\'s core and PostgreSQL\'s (SERVER_CPU)', () => {
  it('reads the kernel\'s cpu lists', () => {
    assert.deepEqual(parseCpuList('0-3,6'), [0, 1, 2, 3, 6]);
    assert.deepEqual(parseCpuList('1\n'), [1]);
    assert.throws(() => parseCpuList('0-x'), /not a cpu list/);
    assert.equal(formatCpuList([0, 2, 3]), '0,2,3');
    assert.deepEqual(allowedCpus('Name:\tnode\nCpus_allowed:\t3\nCpus_allowed_list:\t0-1\nMems_allowed:\t1\n'), [0, 1]);
    assert.throws(() => allowedCpus('Name:\tnode\n'), /no Cpus_allowed_list/);
  });

  it('counts device interrupts per core, not timers and rescheduling', () => {
    assert.deepEqual([...deviceInterrupts(INTERRUPTS)], [[0, 79832], [1, 24150599]]);
  });

  it('gives the server the core with the fewest device interrupts and PostgreSQL the rest', () => {
    const irq = deviceInterrupts(INTERRUPTS);
    assert.deepEqual(planCpuLayout('auto', [0, 1], irq), { server: 0, postgres: [1] });
    // only the cores the process may use count (a cgroup's cpuset)
    assert.deepEqual(planCpuLayout('auto', [1, 2, 3], new Map([[1, 5], [2, 9], [3, 5]])), { server: 3, postgres: [1, 2] });
    assert.deepEqual(planCpuLayout(1, [0, 1], irq), { server: 1, postgres: [0] });
  });

  it('pins nothing when told not to, with one core, or with a core it may not use', () => {
    assert.deepEqual(planCpuLayout('off', [0, 1], new Map()), { none: 'SERVER_CPU=off' });
    assert.deepEqual(planCpuLayout('auto', [0], new Map()), { none: 'only 1 usable core' });
    assert.deepEqual(planCpuLayout(5, [0, 1], new Map()), { none: 'SERVER_CPU=5 is not one of the usable cores (0,1)' });
  });
});
