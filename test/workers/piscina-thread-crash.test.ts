import { afterEach, describe, expect, it } from 'vitest';
import { SecretletError } from '../../src/core/errors.js';
import { PiscinaMountWorker } from '../../src/workers/index.js';

const CRASHING_THREAD = new URL('./fixtures/crashing-thread.ts', import.meta.url);

function write(target: string) {
  return { type: 'write' as const, writer: 'provider' as const, target, files: [] };
}

describe('piscina pool: a thread that dies', () => {
  let pool: PiscinaMountWorker | undefined;
  afterEach(async () => {
    await pool?.close();
    pool = undefined;
  });

  it.each(['exit-during-job', 'throw-async-during-job'])('%s: the job fails with a coded SecretletError and a new thread takes the next job', async (how) => {
    const failures: SecretletError[] = [];
    pool = new PiscinaMountWorker({ threads: 1, maxQueue: 4, threadEntry: CRASHING_THREAD, onThreadError: (e) => failures.push(e) });
    await pool.start();
    const failed = await pool.runWrite(write(how)).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(failed).toBeInstanceOf(SecretletError);
    expect(failed).toMatchObject({ code: 'INTERNAL', reason: 'WorkerFailed' });
    await expect(pool.runWrite(write('ok'))).resolves.toEqual({ type: 'written', changed: true });
    expect(failures).toEqual([]); // the job carried the error; nothing else to report
  });

  // A short timeout: the failure this guards against leaves the report pending.
  it('a crash while idle is reported, does not take the agent down, and the thread is replaced', { timeout: 15_000 }, async () => {
    let reported!: (e: SecretletError) => void;
    const report = new Promise<SecretletError>((r) => (reported = r));
    // Piscina parks idle threads in Atomics.wait, where no timer runs; without it the idle thread's
    // timer fires. Read by the threads at start-up only, so the replacement parks as usual.
    process.env['PISCINA_DISABLE_ATOMICS'] = '1';
    try {
      pool = new PiscinaMountWorker({ threads: 1, maxQueue: 4, threadEntry: CRASHING_THREAD, onThreadError: reported });
      await pool.start();
    } finally {
      delete process.env['PISCINA_DISABLE_ATOMICS'];
    }
    await expect(pool.runWrite(write('throw-async-when-idle'))).resolves.toEqual({ type: 'written', changed: false });
    const error = await report;
    expect(error).toBeInstanceOf(SecretletError);
    expect(error).toMatchObject({ code: 'INTERNAL', reason: 'WorkerThreadFailed' });
    expect(error.message).toContain('thread crashed while idle');
    expect(pool.threadFailures).toBe(1);
    await expect(pool.runWrite(write('ok'))).resolves.toEqual({ type: 'written', changed: true });
  });
});
