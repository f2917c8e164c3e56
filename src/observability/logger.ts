/**
 * JSON logs on stdout (pino). Secrets never reach a log line: callers log key hashes only,
 * and the redaction list below is a second line of defence for fields that could carry one.
 */
import pino, { type Logger } from 'pino';

export type { Logger };

export const REDACTED_PATHS = [
  'key',
  'rawKey',
  'masterKey',
  'saltKey',
  'authorization',
  'headers.authorization',
  'headers["x-litellm-api-key"]',
  'headers["x-api-key"]',
  'headers["api-key"]',
  'headers["x-goog-api-key"]',
  'headers["ocp-apim-subscription-key"]',
  'body',
  'jwt',
  'token',
  'databaseUrl',
  'redisUrl',
];

export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  const options: pino.LoggerOptions = {
    level,
    base: { service: 'tollgate' },
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
    timestamp: pino.stdTimeFunctions.isoTime,
  };
  return destination === undefined ? pino(options) : pino(options, destination);
}

/** Strips credentials from connection URLs before they are shown anywhere. */
export function safeUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password !== '') parsed.password = '***';
    return parsed.toString();
  } catch {
    return '[unparseable url]';
  }
}
