/**
 * The seam between the tmpfs mounter and the way it runs `mount`/`umount`. Spawning straight from
 * the agent (DirectCommandRunner) forks the whole agent process on its event loop; the long-lived
 * helper process (HelperProcessCommandRunner, command-runner-helper.ts) forks a small one off it.
 * Both answer the same thing: how the command ended and what it wrote to stderr.
 */
import { spawn } from 'node:child_process';
import { SecretletError } from '../../core/errors.js';

/** How a command ended. Exactly one of `code` and `signal` is non-null. */
export interface CommandResult {
  code: number | null;
  signal: string | null;
  /** The start of the command's stderr, at most STDERR_LIMIT characters. */
  stderr: string;
}

/**
 * Runs a command without a shell (paths are arguments, never interpreted). A command that ran and
 * failed resolves with its exit code; a command that could not be started at all (missing binary,
 * no permission) rejects with reason `CommandNotStarted`, and a runner that lost its helper rejects
 * with reason `MountHelperExited`.
 */
export interface CommandRunner {
  run(command: string, args: readonly string[]): Promise<CommandResult>;
}

/** How much of a command's stderr is kept: enough for any mount(8) diagnostic, bounded for logs. */
export const STDERR_LIMIT = 4096;

/** The error for a command that never started; `detail` is the spawn error (e.g. `spawn x ENOENT`). */
export function commandNotStarted(command: string, args: readonly string[], detail: string, cause?: unknown): SecretletError {
  return new SecretletError({
    code: 'INTERNAL',
    reason: 'CommandNotStarted',
    message: `${command} ${args.join(' ')} failed: ${detail}`,
    ...(cause === undefined ? {} : { cause }),
  });
}

/** Spawns each command from this process: simple, but each spawn forks the agent on its event loop. */
export class DirectCommandRunner implements CommandRunner {
  run(command: string, args: readonly string[]): Promise<CommandResult> {
    return new Promise((resolve, reject) => {
      const child = spawn(command, args, { stdio: ['ignore', 'ignore', 'pipe'] });
      let stderr = '';
      child.stderr.setEncoding('utf8');
      child.stderr.on('data', (chunk: string) => {
        if (stderr.length < STDERR_LIMIT) stderr = (stderr + chunk).slice(0, STDERR_LIMIT);
      });
      child.on('error', (err) => reject(commandNotStarted(command, args, err.message, err)));
      child.on('close', (code, signal) => resolve({ code, signal, stderr }));
    });
  }
}
