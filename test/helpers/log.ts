import { createLogger } from '../../server/logger';

/** Tests log nothing unless TEST_LOG_LEVEL asks for it. */
export const testLog = createLogger(process.env.TEST_LOG_LEVEL ?? 'silent');
