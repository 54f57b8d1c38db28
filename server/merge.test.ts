import assert from 'node:assert/strict';
import { merged } from './merge';

describe('merged', () => {
  it('is what the spread gives: a fresh object, the later parts over the earlier, nothing changed', () => {
    const line = { id: 1, name: 'Latte', net: null as number | null };
    const out = merged(line, { net: 420, gross: 450 }, { n: 2 });
    assert.deepEqual(out, { ...line, ...{ net: 420, gross: 450 }, ...{ n: 2 } });
    assert.deepEqual(Object.keys(out), ['id', 'name', 'net', 'gross', 'n'], 'in the spread\'s order');
    assert.notEqual(out, line);
    assert.deepEqual(line, { id: 1, name: 'Latte', net: null }, 'the parts are left as they were');
  });
});
