import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ensureBinary } from '../../scripts/build';
import { parseConfigFile } from '../../server/config';
import { needTools, toolPath } from '../helpers/tools';
import { install, prefixDir } from '../helpers/appliance';

const ROOT = path.resolve(__dirname, '../..');

/** Where an install without --prefix writes: none of it may appear when --prefix is given. */
const SYSTEM_PATHS = ['/opt/store-server', '/etc/store-server', '/var/lib/store-server', '/etc/systemd/system/store-server.service', '/etc/udev/rules.d/70-store-server-scanners.rules'];

function tree(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      out.push(path.relative(dir, path.join(d, e.name)));
      if (e.isDirectory()) walk(path.join(d, e.name));
    }
  };
  walk(dir);
  return out.sort();
}

const sha = (file: string) => crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex');

/** Files under the system's own folders changed since `marker` was made (a --prefix install must change none). */
function changedOutside(marker: string): string[] {
  const r = spawnSync('find', ['/etc', '/opt', '/usr/local', '/var/lib', '/srv', '-xdev', '-newer', marker, '-not', '-type', 'd'], { encoding: 'utf8' });
  return r.stdout.split('\n').filter(Boolean);
}

describe('installer/install.sh into a temporary prefix', function () {
  this.timeout(300_000);
  let prefix: string;
  let marker: string;
  let passwd: string;
  let result: { code: number | null; out: string };

  before(async () => {
    await ensureBinary();
    prefix = prefixDir('store-install-');
    marker = path.join(prefixDir('store-install-marker-'), 'marker');
    fs.writeFileSync(marker, '');
    passwd = sha('/etc/passwd');
    // with HTTPS when openssl is there (the --tls test below says so when it is not)
    result = install(['--prefix', prefix, '--no-systemd', ...(toolPath('openssl') ? ['--tls'] : [])]);
  });

  after(() => {
    fs.rmSync(prefix, { recursive: true, force: true });
    fs.rmSync(path.dirname(marker), { recursive: true, force: true });
  });

  it('puts the binary, the config, the data, the unit file and the udev rule under the prefix', () => {
    assert.equal(result.code, 0, result.out);
    const app = path.join(prefix, 'opt/store-server');
    assert.equal(sha(path.join(app, 'store-server')), sha(path.join(ROOT, 'dist/store-server')), 'the built binary');
    fs.accessSync(path.join(app, 'store-server'), fs.constants.X_OK);
    fs.accessSync(path.join(app, 'pg/bin/postgres'), fs.constants.X_OK);
    assert.ok(fs.existsSync(path.join(app, 'node_modules/node-hid/package.json')), 'node-hid beside the binary');

    const configFile = path.join(prefix, 'etc/store-server/config');
    assert.equal(fs.statSync(configFile).mode & 0o777, 0o640, 'the config holds the secret: not world-readable');
    const config = parseConfigFile(fs.readFileSync(configFile, 'utf8'));
    assert.equal(config.DATA_DIR, path.join(prefix, 'var/lib/store-server'));
    assert.match(String(config.SECRET_KEY), /^[A-Za-z0-9]{40,}$/, 'a generated SECRET_KEY');
    assert.ok(fs.existsSync(path.join(prefix, 'var/lib/store-server/pg/PG_VERSION')), 'the database was made and migrated');
    assert.match(result.out, /applied 0001_settings/);
    const unit = fs.readFileSync(path.join(prefix, 'etc/systemd/system/store-server.service'), 'utf8');
    assert.match(unit, new RegExp(`^ExecStart=${path.join(prefix, 'opt/store-server/store-server')} start --config ${configFile}$`, 'm'));
    const rule = fs.readFileSync(path.join(prefix, 'etc/udev/rules.d/70-store-server-scanners.rules'), 'utf8');
    assert.match(rule, /^SUBSYSTEM=="hidraw", ATTRS\{idVendor\}=="[0-9a-f]{4}", GROUP="store-server", MODE="0660"$/m);
  });

  it('writes nothing outside the prefix: no system folder, no user, no package', () => {
    for (const p of SYSTEM_PATHS) assert.equal(fs.existsSync(p), false, `${p} was written`);
    assert.equal(sha('/etc/passwd'), passwd, 'no user was added');
    assert.deepEqual(changedOutside(marker), []);
    assert.doesNotMatch(result.out, /apt-get|useradd|systemctl|chown/);
  });

  it('the unit restarts on failure, starts after the network and stops with KillMode=mixed', () => {
    const unit = fs.readFileSync(path.join(prefix, 'etc/systemd/system/store-server.service'), 'utf8');
    const directives = Object.fromEntries(unit.split('\n').filter((l) => /^\w+=/.test(l)).map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
    assert.equal(directives.KillMode, 'mixed');
    assert.equal(directives.Restart, 'on-failure');
    assert.equal(directives.After, 'network-online.target');
    assert.equal(directives.Wants, 'network-online.target');
    assert.equal(directives.User, 'store-server');
  });

  it('the unit passes systemd-analyze verify', function () {
    needTools(this, 'systemd-analyze');
    const unit = path.join(prefix, 'etc/systemd/system/store-server.service');
    const r = spawnSync(toolPath('systemd-analyze')!, ['verify', unit], { encoding: 'utf8' });
    assert.equal(r.status, 0, `${r.stdout}${r.stderr}`);
    assert.equal(`${r.stdout}${r.stderr}`.trim(), '', 'no warning either');
  });

  it('--tls: a store CA and a certificate for this box under the prefix, and the config serves HTTPS with them on 443', function () {
    needTools(this, 'openssl');
    const config = parseConfigFile(fs.readFileSync(path.join(prefix, 'etc/store-server/config'), 'utf8'));
    const tls = path.join(prefix, 'etc/store-server/tls');
    assert.deepEqual([config.TLS_CERT, config.TLS_KEY, config.TLS_CA, config.PORT], [`${tls}/server.pem`, `${tls}/server.key`, `${tls}/ca.pem`, '443']);
    const verify = spawnSync(toolPath('openssl')!, ['verify', '-CAfile', `${tls}/ca.pem`, `${tls}/server.pem`], { encoding: 'utf8' });
    assert.equal(verify.status, 0, verify.stdout + verify.stderr);
    const san = spawnSync(toolPath('openssl')!, ['x509', '-in', `${tls}/server.pem`, '-noout', '-ext', 'subjectAltName'], { encoding: 'utf8' });
    assert.match(san.stdout, new RegExp(`DNS:${os.hostname()}\\b`));
    assert.equal(fs.statSync(`${tls}/ca.key`).mode & 0o077, 0, 'the CA key is for root only');
  });

  it('--dry-run prints the steps and changes nothing', () => {
    const dry = prefixDir('store-install-dry-');
    const before = fs.statSync(dry).mtimeMs;
    try {
      const r = install(['--prefix', dry, '--no-systemd', '--dry-run']);
      assert.equal(r.code, 0, r.out);
      for (const step of ['installing the program', 'configuration', 'systemd unit', 'udev rule', 'migrating the database']) assert.match(r.out, new RegExp(`==> ${step}`));
      assert.match(r.out, /\+ cp \S+\/store-server \S+\/opt\/store-server\/store-server\.new/);
      assert.deepEqual(tree(dry), [], 'nothing written in the prefix');
      assert.equal(fs.statSync(dry).mtimeMs, before);
    } finally {
      fs.rmSync(dry, { recursive: true, force: true });
    }
    assert.deepEqual(changedOutside(marker), []);
  });

  it('--uninstall keeps the config and the data; --purge removes them', () => {
    const r = install(['--prefix', prefix, '--no-systemd', '--uninstall']);
    assert.equal(r.code, 0, r.out);
    assert.equal(fs.existsSync(path.join(prefix, 'opt/store-server')), false);
    assert.equal(fs.existsSync(path.join(prefix, 'etc/systemd/system/store-server.service')), false);
    assert.ok(fs.existsSync(path.join(prefix, 'etc/store-server/config')));
    assert.ok(fs.existsSync(path.join(prefix, 'var/lib/store-server/pg/PG_VERSION')));
    const purge = install(['--prefix', prefix, '--no-systemd', '--uninstall', '--purge']);
    assert.equal(purge.code, 0, purge.out);
    assert.equal(fs.existsSync(path.join(prefix, 'var/lib/store-server')), false);
    assert.equal(fs.existsSync(path.join(prefix, 'etc/store-server')), false);
  });
});
