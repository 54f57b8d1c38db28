import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { checkImportBoundaries, importSpecifiers } from './helpers/import-boundaries';

const ROOT = path.resolve(__dirname, '..');

/** Every script under the given folders of the repository, by repository-relative path. */
function sources(...dirs: string[]): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (rel: string) => {
    for (const e of fs.readdirSync(path.join(ROOT, rel), { withFileTypes: true })) {
      const p = `${rel}/${e.name}`;
      if (e.isDirectory()) walk(p);
      else if (/\.[cm]?[tj]sx?$/.test(e.name)) out.set(p, fs.readFileSync(path.join(ROOT, p), 'utf8'));
    }
  };
  for (const d of dirs) if (fs.existsSync(path.join(ROOT, d))) walk(d);
  return out;
}

const rules = (files: Record<string, string>) => checkImportBoundaries(files).map((v) => `${v.file} ${v.rule} ${v.specifier}`);

describe('import boundaries: features talk through services, drivers/ stands alone', () => {
  it('finds the specifier of every form of import', () => {
    const src = [
      "import { a } from './a';",
      'import type { B } from "./b";',
      "import {\n  c,\n  type C,\n} from '../c';",
      "import * as d from '../d/e';",
      "export { f } from './f';",
      "export * from './g';",
      "export type { H } from './h';",
      "import './side-effect';",
      "const i = await import('./i');",
      "type J = typeof import('./j');",
      "const k = require('../k');",
      "import l = require('./l');",
      "const notAnImport = from('x'); obj.import('./no'); myrequire('./no2');",
    ].join('\n');
    assert.deepEqual(importSpecifiers(src).sort(), ['../c', '../d/e', '../k', './a', './b', './f', './g', './h', './i', './j', './l', './side-effect'].sort());
  });

  it("fails on a feature importing another feature's queries, in any form", () => {
    assert.deepEqual(rules({ 'server/orders/routes.ts': "import { listProducts } from '../catalog/queries';" }), ['server/orders/routes.ts feature-queries ../catalog/queries']);
    assert.deepEqual(rules({ 'server/api/serialize.ts': "import type { PaymentRow } from '../orders/queries.ts';" }), ['server/api/serialize.ts feature-queries ../orders/queries.ts']);
    assert.deepEqual(rules({ 'server/kitchen/service.ts': "import {\n  lockOrder,\n  type OrderRow,\n} from '../orders/queries';" }), ['server/kitchen/service.ts feature-queries ../orders/queries']);
    assert.deepEqual(rules({ 'server/tables/checks.ts': "export { isOpen } from '../orders/queries';" }), ['server/tables/checks.ts feature-queries ../orders/queries']);
    assert.deepEqual(rules({ 'server/tables/service.ts': "const q = await import('../orders/queries');" }), ['server/tables/service.ts feature-queries ../orders/queries']);
    assert.deepEqual(rules({ 'server/tables/service.ts': "const q = require('../orders/queries');" }), ['server/tables/service.ts feature-queries ../orders/queries']);
    // deeper on either side, a queries folder, and the composition root outside every feature
    assert.deepEqual(rules({ 'server/api/v2/routes.ts': "import { x } from '../../orders/queries/lines';" }), ['server/api/v2/routes.ts feature-queries ../../orders/queries/lines']);
    assert.deepEqual(rules({ 'server/app.ts': "import { x } from './catalog/queries';" }), ['server/app.ts feature-queries ./catalog/queries']);
    // a test beside the code counts too
    assert.deepEqual(rules({ 'server/tables/checks.test.ts': "import { lockOrder } from '../orders/queries';" }), ['server/tables/checks.test.ts feature-queries ../orders/queries']);
  });

  it('fails on anything under drivers/ importing from server/', () => {
    assert.deepEqual(rules({ 'drivers/printer/network-printer.ts': "import { formatMoney } from '../../server/money';" }), ['drivers/printer/network-printer.ts driver-imports-server ../../server/money']);
    assert.deepEqual(rules({ 'drivers/scanner/hid.ts': "import type { Logger } from '../../server/logger';" }), ['drivers/scanner/hid.ts driver-imports-server ../../server/logger']);
    assert.deepEqual(rules({ 'drivers/index.ts': "const s = require('../server');" }), ['drivers/index.ts driver-imports-server ../server']);
  });

  it('passes what the rules allow', () => {
    assert.deepEqual(
      rules({
        // a feature's own queries, from its folder and below it
        'server/orders/service.ts': "import { lockOrder } from './queries';\nimport { sellableProduct } from '../catalog/service';",
        'server/orders/lines/add.ts': "import { lockOrder } from '../queries';",
        // another feature's service, shared modules, packages
        'server/tables/checks.ts': "import { assertOpen } from '../orders/service';\nimport { allocate } from '../money';\nimport type { Knex } from 'knex';",
        'server/main.ts': "import { createApp } from './app';\nimport { migrateLatest } from './db/migrations';",
        // names that only look like queries
        'server/reports/service.ts': "import { x } from '../orders/queries-helpers';\nimport { y } from '../orders/service';\nimport { z } from './queries';",
        // a driver importing within drivers/ and from packages
        'drivers/printer/network-printer.ts': "import net from 'node:net';\nimport type { Printer } from './printer';\nimport { encode } from '../escpos/encode';",
        // server/ importing drivers/ is the allowed direction
        'server/printing/service.ts': "import type { Printer } from '../../drivers/printer/printer';",
      }),
      [],
    );
  });

  it('finds no violation in the repository (server/ and drivers/, tests beside the code included)', () => {
    const files = sources('server', 'drivers');
    assert.ok(files.size > 50, `read ${files.size} files`);
    const found = checkImportBoundaries(files).map((v) => v.message);
    assert.deepEqual(found, []);
  });
});
