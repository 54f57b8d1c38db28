import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { FakeEscposPrinter } from '../../test/fakes/escpos-printer';
import { createPrinter } from './create-printer';
import { encodeJob } from './encode';
import { defaultProfile } from './profile';

describe('createPrinter: the device settings pick the printer', () => {
  const job = encodeJob({ ops: [{ op: 'text', text: 'Test print' }, { op: 'cut' }] }, defaultProfile(80));

  it("'network' prints on the printer at the address", async () => {
    const fake = new FakeEscposPrinter();
    const printer = createPrinter({ kind: 'network', address: await fake.start(), profile: defaultProfile(80) });
    await printer.send(job);
    await printer.close();
    await fake.stop();
    assert.deepEqual(fake.printed.map((p) => p.lines[0]!.text), ['Test print']);
  });

  it("'simulated' writes the job under its folder", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'prints-'));
    const printer = createPrinter({ kind: 'simulated', dir, profile: defaultProfile(80) });
    await printer.send(job);
    const [file] = fs.readdirSync(dir);
    assert.match(fs.readFileSync(path.join(dir, file!), 'utf8'), /^Test print\n/);
    fs.rmSync(dir, { recursive: true, force: true });
  });
});
