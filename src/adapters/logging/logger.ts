/**
 * Structured JSON logs (pino) with a stable shape: time, level, msg, and where relevant pod,
 * namespace, spc, mountKey, durationMs and error code/reason. Secret values, tokens and the
 * `secrets` JSON never reach a log call by construction (the code logs names, versions and codes
 * only); the redact paths below are a second line of defence against a future mistake.
 */
import { destination as pinoDestination, pino } from 'pino';
import type { Logger as PinoLogger, DestinationStream } from 'pino';

export type Logger = PinoLogger;

export const REDACT_PATHS = [
  'token',
  'tokens',
  '*.token',
  '*.tokens',
  'secrets',
  '*.secrets',
  'contents',
  '*.contents',
  'attributes',
  '*.attributes',
  'SecretString',
  '*.SecretString',
  'Value',
  '*.Value',
  '["csi.storage.k8s.io/serviceAccount.tokens"]',
  '*["csi.storage.k8s.io/serviceAccount.tokens"]',
];

export function createLogger(options: { level: string; destination?: DestinationStream; name?: string }): Logger {
  return pino(
    {
      level: options.level,
      name: options.name ?? 'secretlet',
      base: undefined,
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      formatters: { level: (label) => ({ level: label }) },
    },
    options.destination,
  );
}

/**
 * Synchronous stdout for the agent process: every line is on the pipe when the log call returns,
 * so the last lines before `process.exit` (drain, exit code) are never lost or reordered. A few
 * microseconds per line is nothing next to a mount.
 */
export function stdoutDestination(): DestinationStream {
  return pinoDestination({ dest: 1, sync: true });
}
