/**
 * The mount helper process: a tiny, long-lived Node process the agent starts once and sends
 * `mount`/`umount` requests to (see command-runner-helper.ts). Forking this ~40 MiB process is far
 * cheaper than forking the agent, and the fork blocks this process's event loop, not the agent's.
 *
 * Keep it dependency-free: it imports only node built-ins and protocol types, so it starts fast,
 * needs nothing from node_modules compiled, and stays small under a tight V8 heap limit.
 *
 * Lifetime: it lives exactly as long as its stdin is open. When the agent closes it (or dies and
 * the kernel closes the pipe), the helper lets commands already running finish, answers them if it
 * still can, and exits; it is never orphaned. It ignores SIGINT/SIGTERM sent to the whole process
 * group (Ctrl-C, an init that forwards signals to the group) because the agent, while it drains,
 * may still need it to unmount volumes; its stdin closing is what ends it.
 */
import { spawn } from 'node:child_process';
import type { HelperReply, HelperRequest } from './command-runner-protocol.js';

/** Mirrors STDERR_LIMIT of command-runner.ts (not imported: this file stays dependency-free). */
const STDERR_LIMIT = 4096;

let running = 0;
let inputEnded = false;

function send(reply: HelperReply): void {
  process.stdout.write(`${JSON.stringify(reply)}\n`);
}

function exitWhenIdle(): void {
  if (inputEnded && running === 0) process.exit(0);
}

function isRequest(value: unknown): value is HelperRequest {
  if (typeof value !== 'object' || value === null) return false;
  const r = value as Record<string, unknown>;
  return (
    typeof r['id'] === 'number' &&
    typeof r['command'] === 'string' &&
    Array.isArray(r['args']) &&
    r['args'].every((a) => typeof a === 'string')
  );
}

function runCommand(request: HelperRequest): void {
  running += 1;
  let settled = false;
  const finish = (reply: HelperReply): void => {
    if (settled) return;
    settled = true;
    running -= 1;
    send(reply);
    exitWhenIdle();
  };
  let child;
  try {
    child = spawn(request.command, request.args, { stdio: ['ignore', 'ignore', 'pipe'] });
  } catch (err) {
    // spawn throws synchronously only for invalid arguments (e.g. a NUL byte in a path).
    finish({ id: request.id, spawnError: err instanceof Error ? err.message : String(err) });
    return;
  }
  let stderr = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (chunk: string) => {
    if (stderr.length < STDERR_LIMIT) stderr = (stderr + chunk).slice(0, STDERR_LIMIT);
  });
  child.on('error', (err) => finish({ id: request.id, spawnError: err.message }));
  child.on('close', (code, signal) => finish({ id: request.id, code, signal, stderr }));
}

function handleLine(line: string): void {
  if (line.trim() === '') return;
  let parsed: unknown;
  try {
    parsed = JSON.parse(line);
  } catch {
    process.exit(2); // the agent never sends this: the pipe is not ours, so stop
  }
  if (!isRequest(parsed)) process.exit(2);
  runCommand(parsed);
}

function main(): void {
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => undefined);
  // The agent gone (EPIPE) means no one reads the answers: stop.
  process.stdout.on('error', () => process.exit(0));
  let buffered = '';
  process.stdin.setEncoding('utf8');
  process.stdin.on('data', (chunk: string) => {
    buffered += chunk;
    let newline = buffered.indexOf('\n');
    while (newline >= 0) {
      handleLine(buffered.slice(0, newline));
      buffered = buffered.slice(newline + 1);
      newline = buffered.indexOf('\n');
    }
  });
  process.stdin.on('end', () => {
    inputEnded = true;
    exitWhenIdle();
  });
  process.stdin.on('error', () => {
    inputEnded = true;
    exitWhenIdle();
  });
}

main();
