import { pino, type Logger } from 'pino';

/** Structured JSON logs (pino). LOG_LEVEL=debug|info|warn|error, default info. */
export const log: Logger = pino({ level: process.env.LOG_LEVEL ?? 'info', base: undefined });
