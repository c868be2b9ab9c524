/**
 * The provider door follows the driver's deadline (upstream #1051): when the driver gives up on a
 * first Mount it unmounts the tmpfs, so a fetch that finishes afterwards must not write, or the
 * secret files land in the bare target directory on the node's disk.
 */
import { readdir } from 'node:fs/promises';
import { status } from '@grpc/grpc-js';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createProviderClient } from '../../src/adapters/grpc/index.js';
import type { ProviderClient } from '../../src/adapters/grpc/index.js';
import { createLogger } from '../../src/adapters/logging/logger.js';
import { startHarness } from '../support/agent-harness.js';
import type { Harness } from '../support/agent-harness.js';
import { PARAMETERS, SPC_NAME, driverMountRequest, makeTarget, pod, seedShop } from '../support/spc-fixtures.js';

interface LogLine {
  msg: string;
  code?: string;
}

/** AWS answers wait here until the test opens it; the emulator calls `delay` before every answer. */
function awsGate(): { delay: () => Promise<void>; open(): void } {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  return { delay: () => opened, open };
}

async function eventually<T>(probe: () => T | undefined, what: string, timeoutMs = 10_000): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

let h: Harness;
let client: ProviderClient;
let lines: LogLine[];
let gate: ReturnType<typeof awsGate>;

beforeEach(async () => {
  lines = [];
  gate = awsGate();
  const logger = createLogger({ level: 'info', destination: { write: (s: string) => void lines.push(JSON.parse(s) as LogLine) } });
  // Provider-writes mode (the default); rotation off so nothing answers from freshness.
  h = await startHarness({ agent: { rotationInterval: '0' }, stack: { aws: { latencyMs: 1, delay: gate.delay } }, logger });
  seedShop(h.stack);
  client = createProviderClient(h.providerSocket);
});

afterEach(async () => {
  gate.open();
  client.close();
  await h.stop();
});

describe('provider door: the driver gave up', () => {
  it('a fetch that outlasts the driver\'s deadline writes nothing and ends DEADLINE_EXCEEDED', async () => {
    const p = pod('web', 1);
    const target = await makeTarget(h.dir, p.podUid);

    const error = await client
      .mount(driverMountRequest({ stack: h.stack, pod: p, spcName: SPC_NAME, parameters: PARAMETERS, targetPath: target }), { deadlineMs: 300 })
      .then(
        () => undefined,
        (e: unknown) => e as { code: number },
      );
    expect(error?.code).toBe(status.DEADLINE_EXCEEDED);

    // AWS answers only now, after the driver would have unmounted the tmpfs.
    gate.open();
    const outcome = await eventually(() => lines.find((l) => l.msg.startsWith('provider mount ')), "the handler's outcome");

    expect(outcome).toMatchObject({ msg: 'provider mount failed', code: 'DEADLINE_EXCEEDED' });
    expect(await readdir(target)).toEqual([]);
  });
});
