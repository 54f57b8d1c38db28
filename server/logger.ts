import pino, { type Logger } from 'pino';

export type { Logger };

/** The one logger factory. JSON lines to stdout; the level comes from config. */
export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  // the Stripe key never reaches a log line, whatever object a caller logs (issue 22)
  const redact = { paths: ['STRIPE_SECRET_KEY', '*.STRIPE_SECRET_KEY', 'secretKey', '*.secretKey', 'authorization', '*.authorization', '*.headers.authorization'], censor: '[redacted]' };
  return pino({ level, base: undefined, timestamp: pino.stdTimeFunctions.isoTime, redact }, destination);
}
