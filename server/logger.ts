import pino, { type Logger } from 'pino';

export type { Logger };

/** The one logger factory. JSON lines to stdout; the level comes from config. */
export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  return pino({ level, base: undefined, timestamp: pino.stdTimeFunctions.isoTime }, destination);
}
