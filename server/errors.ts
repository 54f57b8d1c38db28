/**
 * The small error vocabulary. Every error a user may see is an AppError with an HTTP status,
 * a stable id (used as the problem+json `type` and in tests) and a message safe to show.
 * Anything else that escapes a handler is unexpected: logged, never shown.
 */
export interface FieldIssue {
  field: string;
  message: string;
}

export class AppError extends Error {
  readonly expose = true;
  constructor(
    readonly status: number,
    readonly id: string,
    message: string,
    readonly details?: { fields?: FieldIssue[]; [key: string]: unknown },
  ) {
    super(message);
    this.name = 'AppError';
  }
}

export const isAppError = (err: unknown): err is AppError => err instanceof AppError;

export const invalid = (message: string, fields?: FieldIssue[]) =>
  new AppError(400, 'validation', message, fields ? { fields } : undefined);
export const malformed = (message: string) => new AppError(400, 'malformed-request', message);
export const unauthenticated = (message = 'Sign in first.') => new AppError(401, 'unauthenticated', message);
export const forbidden = (message = 'You are not allowed to do that.') => new AppError(403, 'forbidden', message);
export const notFound = (what = 'That page') => new AppError(404, 'not-found', `${what} was not found.`);
export const conflict = (message: string, id = 'conflict') => new AppError(409, id, message);
/** 421: the request named a host this server does not answer for (the allowedHosts setting). */
export const hostNotAllowed = (message: string) => new AppError(421, 'host-not-allowed', message);
export const payloadTooLarge = (limit: number) =>
  new AppError(413, 'payload-too-large', `The request body is larger than ${limit} bytes.`);
export const unsupportedMediaType = (type: string) =>
  new AppError(415, 'unsupported-media-type', `Content type ${type} is not accepted here.`);
export const unprocessable = (message: string, id = 'unprocessable', details?: Record<string, unknown>) =>
  new AppError(422, id, message, details);
/**
 * 429, carrying how long to wait: the error middleware sends it as `Retry-After` (details.retryAfter,
 * whole seconds). The message-only form stays for callers that cannot tell.
 */
export function tooManyRequests(retryAfterSeconds?: number, message?: string): AppError;
export function tooManyRequests(message?: string): AppError;
export function tooManyRequests(a?: number | string, b?: string): AppError {
  const retryAfter = typeof a === 'number' ? a : undefined;
  const message = (typeof a === 'string' ? a : b) ?? 'Too many attempts. Wait a moment and try again.';
  return new AppError(429, 'rate-limited', message, retryAfter !== undefined ? { retryAfter } : undefined);
}
export const unavailable = (message: string, id = 'unavailable') => new AppError(503, id, message);
