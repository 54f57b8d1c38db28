import type { DbOrTrx } from '../db/knex';
import { perDatabase } from '../db/per-database';
import { query } from '../db/direct';
import type { Logger } from '../logger';

/**
 * A staff session's last activity (what the idle lock measures), written to the database after
 * the request that showed it, not before its answer.
 *
 * A request that touched its session used to wait for that UPDATE first: a second turn in the
 * pool's queue, so at a rush it took twice as long as the others. About one request in 55
 * (every session every 2 s) was such a request, and they were the slowest percent
 * (docs/PERFORMANCE.md, "a staff session's activity after the answer").
 *
 * Now a touch is noted here at once and one statement writes every noted session; while it
 * runs, new touches wait for the next. Until a touch is written, `lastActivity` gives it to
 * whoever reads the session from the database, so the idle lock never sees an older time than
 * the server knows. A write that fails keeps its touches for the next one; a server that stops
 * writes what is noted first (`flushActivity`). A server that dies loses at most the touches of
 * the last moment: the session then looks idle a few seconds early, which only locks it sooner.
 */
class Activity {
  /** session id → the newest activity not yet known to be written */
  readonly noted = new Map<string, Date>();
  writing: Promise<void> | undefined;
  failing = false;
}

const activityOf = perDatabase(() => new Activity());

// one text whatever the number of sessions, so it is prepared once; never moves a time back,
// never touches an ended session
const WRITE_SQL = `update sessions s set last_active_at = greatest(s.last_active_at, v.at)
  from unnest(?::text[], ?::timestamptz[]) as v(id, at)
  where s.id = v.id and s.ended_at is null`;

/** Notes activity on session `id` at `at` and starts writing it unless a write is under way. */
export function noteActivity(db: DbOrTrx, id: string, at: Date, log?: Logger): void {
  const a = activityOf(db);
  const known = a.noted.get(id);
  if (!known || known < at) a.noted.set(id, at);
  writing(db, a, log);
}

/** The newest activity noted on session `id` that may not be in the database yet. */
export function lastActivity(db: DbOrTrx, id: string): Date | undefined {
  return activityOf(db).noted.get(id);
}

/** Writes whatever is noted; resolves when nothing is left to write or a write failed. */
export async function flushActivity(db: DbOrTrx, log?: Logger): Promise<void> {
  const a = activityOf(db);
  if (a.writing) await a.writing;
  if (a.noted.size) await writing(db, a, log);
}

/** The write under way, started if there is none. */
function writing(db: DbOrTrx, a: Activity, log: Logger | undefined): Promise<void> {
  return (a.writing ??= write(db, a, log).finally(() => {
    a.writing = undefined;
  }));
}

async function write(db: DbOrTrx, a: Activity, log: Logger | undefined): Promise<void> {
  // let the request that noted the first touch answer before its statement queues for the pool
  await new Promise<void>((resolve) => setImmediate(resolve));
  while (a.noted.size) {
    const batch = [...a.noted];
    try {
      await query(db, WRITE_SQL, [batch.map(([id]) => id), batch.map(([, at]) => at)]);
    } catch (err) {
      if (!a.failing) log?.warn({ err, sessions: batch.length }, 'could not write staff sessions\' last activity; it stays in memory and is written with the next');
      a.failing = true;
      return;
    }
    if (a.failing) log?.info('staff sessions\' last activity written again');
    a.failing = false;
    // a session touched again meanwhile stays noted for the next round
    for (const [id, at] of batch) if (a.noted.get(id) === at) a.noted.delete(id);
  }
}
