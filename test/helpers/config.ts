import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadConfig, type Config } from '../../server/config';

export function tempDir(prefix = 'store-test-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

/** A valid Config for in-process tests; the database is handed to the app directly. */
export function testConfig(env: Record<string, string> = {}): Config {
  return loadConfig({ DATA_DIR: tempDir(), PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'silent', SECRET_KEY: 'x'.repeat(40), ...env });
}
