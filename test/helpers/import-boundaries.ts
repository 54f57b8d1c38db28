import path from 'node:path';

/**
 * The import boundaries ARCHITECTURE draws, read from source text (issue 19, "Features talk
 * through services"):
 *
 * - a feature reaches another through that feature's service, never its queries: nothing under
 *   server/ outside server/<feature>/ imports server/<feature>/queries (or anything under a
 *   queries/ folder of it), `import type` included;
 * - drivers/ never imports from server/.
 *
 * Pure: it gets repository-relative paths (server/orders/routes.ts) with their text and returns
 * what breaks a rule. Specifiers are found by regular expressions, not a parser: every
 * `import … from '…'`, `export … from '…'`, `import '…'`, `import('…')` and `require('…')`,
 * commented-out ones too (a false alarm is seen and fixed; a missed import is not).
 */
export interface ImportViolation {
  file: string;
  specifier: string;
  /** the specifier resolved against the file's folder, repository-relative, no extension */
  resolved: string;
  rule: 'feature-queries' | 'driver-imports-server';
  message: string;
}

const SPECIFIERS = [
  // import x from '…', import type { A } from '…', export { a } from '…', export * from '…'
  /(?:^|[^\w$.])(?:import|export)\s[^'"`;]*?\bfrom\s*(['"])([^'"\n]+)\1/g,
  // import '…' (for its effects)
  /(?:^|[^\w$.])import\s*(['"])([^'"\n]+)\1/g,
  // import('…'), typeof import('…'), require('…'), import x = require('…')
  /(?:^|[^\w$.])(?:import|require)\s*\(\s*(['"`])([^'"`\n]+)\1\s*\)/g,
];

/** Every module specifier in a source text, in no particular order, each once. */
export function importSpecifiers(source: string): string[] {
  const out = new Set<string>();
  for (const re of SPECIFIERS) for (const m of source.matchAll(re)) out.add(m[2]);
  return [...out];
}

/**
 * Where a specifier points, repository-relative and without a script extension: relative ones
 * against the importing file's folder; others as written (a package, or a path from the root).
 */
export function resolveSpecifier(file: string, specifier: string): string {
  const target = specifier.startsWith('.') ? path.posix.join(path.posix.dirname(toPosix(file)), specifier) : path.posix.normalize(specifier);
  return target.replace(/\.(?:d\.)?[cm]?[tj]sx?$/, '');
}

/** The feature folder a path is in (server/orders/routes.ts → orders); undefined outside one. */
function featureOf(p: string): string | undefined {
  return /^server\/([^/]+)\/./.exec(p)?.[1];
}

/** The feature whose queries a resolved path is (server/catalog/queries → catalog). */
function queriesOf(resolved: string): string | undefined {
  return /^server\/([^/]+)\/(?:.+\/)?queries(?:\/|$)/.exec(resolved)?.[1];
}

export function checkImportBoundaries(files: ReadonlyMap<string, string> | Record<string, string>): ImportViolation[] {
  const entries = files instanceof Map ? [...files.entries()] : Object.entries(files);
  const out: ImportViolation[] = [];
  for (const [rawFile, source] of entries) {
    const file = toPosix(rawFile);
    for (const specifier of importSpecifiers(source)) {
      const resolved = resolveSpecifier(file, specifier);
      if (file.startsWith('drivers/') && (resolved === 'server' || resolved.startsWith('server/'))) {
        out.push({ file, specifier, resolved, rule: 'driver-imports-server', message: `${file} imports ${specifier}: drivers/ never imports from server/` });
      }
      const owner = queriesOf(resolved);
      if (file.startsWith('server/') && owner !== undefined && owner !== featureOf(file)) {
        out.push({
          file,
          specifier,
          resolved,
          rule: 'feature-queries',
          message: `${file} imports ${specifier}: another feature's queries; go through server/${owner}/service.ts`,
        });
      }
    }
  }
  return out;
}

function toPosix(p: string): string {
  return p.split(path.sep).join('/').replace(/^\.\//, '');
}
