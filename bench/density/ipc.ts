/**
 * Request/response over a child process's IPC channel, for the benchmark's three processes: the
 * driver asks the stack process and the agent process for counters, tokens and samples. Requests
 * carry an id; the child answers `{ id, ok, value | error }`. The first message a child sends is
 * `{ type: 'ready', ... }`.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';

export interface IpcRequest {
  id: number;
  cmd: string;
  args?: unknown;
}

export type IpcReply = { id: number; ok: true; value: unknown } | { id: number; ok: false; error: string };

export interface Child<Ready> {
  ready: Ready;
  call<T>(cmd: string, args?: unknown): Promise<T>;
  stop(): Promise<void>;
  pid: number;
}

/** Spawns `script` (TypeScript under tsx; a `.js` script under plain node) with an IPC channel and waits for its ready message. */
export async function spawnChild<Ready>(script: string, args: string[], nodeArgs: string[] = []): Promise<Child<Ready>> {
  const loader = script.endsWith('.js') ? [] : ['--import', 'tsx'];
  const child: ChildProcess = spawn(process.execPath, [...nodeArgs, ...loader, script, ...args], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const pending = new Map<number, { resolve(v: unknown): void; reject(e: Error): void }>();
  let nextId = 1;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const ready = await new Promise<Ready>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`${script} exited with ${code} before it was ready`)));
    child.on('message', (m: unknown) => {
      const msg = m as { type?: string } & Partial<IpcReply>;
      if (msg.type === 'ready') {
        resolve(msg as unknown as Ready);
        return;
      }
      const p = msg.id === undefined ? undefined : pending.get(msg.id);
      if (!p || msg.id === undefined) return;
      pending.delete(msg.id);
      if (msg.ok === true) p.resolve((msg as { value: unknown }).value);
      else p.reject(new Error(`${script}: ${(msg as { error?: string }).error ?? 'failed'}`));
    });
  });
  return {
    ready,
    pid: child.pid ?? -1,
    call<T>(cmd: string, callArgs?: unknown): Promise<T> {
      const id = nextId++;
      return new Promise<T>((resolve, reject) => {
        pending.set(id, { resolve: (v) => resolve(v as T), reject });
        child.send({ id, cmd, args: callArgs } satisfies IpcRequest);
      });
    },
    async stop() {
      if (child.exitCode === null && child.connected) child.send({ id: 0, cmd: 'exit' } satisfies IpcRequest);
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** Child side: answers requests with `handle`; `exit` runs `onExit` and leaves. */
export function serveParent(handle: (cmd: string, args: unknown) => Promise<unknown>, onExit: () => Promise<void>): void {
  process.on('message', (m: unknown) => {
    const req = m as IpcRequest;
    if (req.cmd === 'exit') {
      void onExit().finally(() => process.exit(0));
      return;
    }
    handle(req.cmd, req.args).then(
      (value) => process.send?.({ id: req.id, ok: true, value } satisfies IpcReply),
      (e: unknown) => process.send?.({ id: req.id, ok: false, error: e instanceof Error ? e.message : String(e) } satisfies IpcReply),
    );
  });
  process.on('disconnect', () => void onExit().finally(() => process.exit(0)));
}
