import { PrinterError, type PrinterStatus } from '../../drivers/printer/printer';
import type { PrinterPool } from './pool';
import type { PrinterRow } from './render';

/** A printer's live status as the back office and the API show it. */
export interface LiveStatus {
  /** 'ready', or what keeps it from printing */
  state: 'ready' | 'paper-low' | 'paper-out' | 'cover-open' | 'offline' | 'error' | 'busy' | 'not-answering' | 'unreachable';
  label: string;
  badge: 'ok' | 'warn' | 'danger';
  /** the DLE EOT flags, when it answered */
  flags: PrinterStatus | null;
}

/**
 * Asks the printer now (DLE EOT). A printer busy with a long job answers after it (its driver runs
 * one thing at a time): past `waitMs` the answer is "busy", not a wait.
 */
export async function liveStatus(pool: PrinterPool, p: PrinterRow, waitMs = pool.statusTimeoutMs + 1000): Promise<LiveStatus> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<'late'>((r) => (timer = setTimeout(() => r('late'), waitMs)));
  const asked = pool.status(p);
  asked.catch(() => undefined);
  try {
    const s = await Promise.race([asked, late]);
    if (s === 'late') return { state: 'busy', label: 'Busy printing', badge: 'warn', flags: null };
    if (s.paperOut) return { state: 'paper-out', label: 'Out of paper', badge: 'danger', flags: s };
    if (s.coverOpen) return { state: 'cover-open', label: 'Cover open', badge: 'danger', flags: s };
    if (s.error) return { state: 'error', label: 'Error', badge: 'danger', flags: s };
    if (!s.online) return { state: 'offline', label: 'Offline', badge: 'danger', flags: s };
    if (s.paperNearEnd) return { state: 'paper-low', label: 'Ready, paper low', badge: 'warn', flags: s };
    return { state: 'ready', label: 'Ready', badge: 'ok', flags: s };
  } catch (err) {
    if (err instanceof PrinterError && err.code === 'printer-unreachable') return { state: 'unreachable', label: 'Cannot be reached', badge: 'danger', flags: null };
    return { state: 'not-answering', label: 'Not answering', badge: 'danger', flags: null };
  } finally {
    clearTimeout(timer);
  }
}
