/**
 * Test doubles for the two door ports, and small synchronisation helpers. The fakes implement the
 * ports (no module mocking): they record what they were given and answer with a scripted function.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type {
  NodePublishRequest,
  NodeUnpublishRequest,
  NodeVolumeHandler,
  ProviderMountHandler,
  ProviderMountRequest,
  ProviderMountResponse,
} from '../../../src/adapters/grpc/index.js';

export interface Deferred<T> {
  promise: Promise<T>;
  resolve(value: T): void;
  reject(err: unknown): void;
}

export function deferred<T = void>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (err: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** Resolves with the signal's reason once it aborts. */
export function whenAborted(signal: AbortSignal): Promise<unknown> {
  if (signal.aborted) return Promise.resolve(signal.reason);
  return new Promise((resolve) => signal.addEventListener('abort', () => resolve(signal.reason), { once: true }));
}

/** A handler that records every call and waits until the call is aborted, then rejects with the reason. */
export function blockUntilAborted<Req>(started: Deferred<{ req: Req; signal: AbortSignal }>) {
  return async (req: Req, signal: AbortSignal): Promise<never> => {
    started.resolve({ req, signal });
    throw await whenAborted(signal);
  };
}

export class FakeMountHandler implements ProviderMountHandler {
  readonly calls: ProviderMountRequest[] = [];
  readonly #answer: (req: ProviderMountRequest, signal: AbortSignal) => Promise<ProviderMountResponse>;

  constructor(answer: (req: ProviderMountRequest, signal: AbortSignal) => Promise<ProviderMountResponse>) {
    this.#answer = answer;
  }

  mount(req: ProviderMountRequest, signal: AbortSignal): Promise<ProviderMountResponse> {
    this.calls.push(req);
    return this.#answer(req, signal);
  }
}

export class FakeVolumeHandler implements NodeVolumeHandler {
  readonly published: NodePublishRequest[] = [];
  readonly unpublished: NodeUnpublishRequest[] = [];
  onPublish: (req: NodePublishRequest, signal: AbortSignal) => Promise<void> = () => Promise.resolve();
  onUnpublish: (req: NodeUnpublishRequest, signal: AbortSignal) => Promise<void> = () => Promise.resolve();

  publish(req: NodePublishRequest, signal: AbortSignal): Promise<void> {
    this.published.push(req);
    return this.onPublish(req, signal);
  }

  unpublish(req: NodeUnpublishRequest, signal: AbortSignal): Promise<void> {
    this.unpublished.push(req);
    return this.onUnpublish(req, signal);
  }
}

/** A fresh directory for sockets; short so socket paths stay far below the 107-byte limit. */
export async function socketDir(): Promise<{ dir: string; cleanup(): Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'slg-'));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

/** Rejection of `promise` as an object, for `expect(...).toMatchObject({ code, details })`. */
export async function rejectionOf(promise: Promise<unknown>): Promise<Record<string, unknown>> {
  try {
    await promise;
  } catch (err) {
    return err as Record<string, unknown>;
  }
  throw new Error('expected the call to fail, but it succeeded');
}
