/**
 * Redaction by construction: a canary secret is mounted through both doors, then mounts fail on
 * purpose *after* the canary was read (a jmesPath that selects an object, not a string). The canary
 * value and the pod's service-account token must not appear in the logs (at trace level), the
 * metrics, the event log files, the Kubernetes Events, or any gRPC error text.
 */
import { randomBytes } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InMemoryVolumeMounter } from '../../src/adapters/fs/in-memory-volume-mounter.js';
import { createCsiClient, createProviderClient } from '../../src/adapters/grpc/index.js';
import { startHarness } from '../support/agent-harness.js';
import type { Harness } from '../support/agent-harness.js';
import { APP, LogSink, addPod, applySpc, eventually, httpGet, podAttributes, providerMountRequest, seedApp, targetFor } from './world.js';

const CANARY = `canary-${randomBytes(12).toString('hex')}`;

async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true });
  return entries.filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name));
}

describe('a canary secret never leaks', () => {
  let h: Harness;
  const logs = new LogSink('trace');
  const errorTexts: string[] = [];
  const tokens: string[] = [];

  beforeAll(async () => {
    h = await startHarness({ mounter: new InMemoryVolumeMounter(), logger: logs.logger });
    seedApp(h.stack);
    h.stack.aws.putSecret({ name: 'ops/canary', region: APP.region, string: JSON.stringify({ password: CANARY, nested: { password: CANARY } }) });
    h.stack.aws.putParameter({ name: '/ops/canary', region: APP.region, value: CANARY, type: 'SecureString' });
    const good = '- objectName: ops/canary\n  objectType: secretsmanager\n  jmesPath:\n    - path: password\n      objectAlias: password\n- objectName: /ops/canary\n  objectType: ssmparameter\n  objectAlias: param\n';
    const bad = '- objectName: ops/canary\n  objectType: secretsmanager\n  jmesPath:\n    - path: nested\n      objectAlias: nested\n';
    applySpc(h.stack, 'canary-good', good);
    applySpc(h.stack, 'canary-bad', bad);

    const provider = createProviderClient(h.providerSocket);
    const csi = createCsiClient(h.csiEndpoint);
    try {
      // Provider door: one good mount (the canary is read and written), one failing after the read.
      const goodReq = await providerMountRequest({ stack: h.stack, dir: h.dir, pod: addPod(h.stack), spc: 'canary-good', objects: good });
      tokens.push(goodReq.attributes);
      await provider.mount(goodReq);
      const badReq = await providerMountRequest({ stack: h.stack, dir: h.dir, pod: addPod(h.stack), spc: 'canary-bad', objects: bad });
      await provider.mount(badReq).then(
        () => expect.fail('the bad provider mount succeeded'),
        (e: Error & { details?: string }) => errorTexts.push(e.message, e.details ?? ''),
      );

      // Kubelet door: the same, with the SPC read from the API server.
      const goodPod = addPod(h.stack);
      await csi.nodePublish({ volumeId: 'v-good', targetPath: await targetFor(h.dir, goodPod), volumeContext: podAttributes(h.stack, goodPod, 'canary-good') });
      const badPod = addPod(h.stack);
      const badCtx = podAttributes(h.stack, badPod, 'canary-bad');
      tokens.push(badCtx['csi.storage.k8s.io/serviceAccount.tokens']!);
      await csi.nodePublish({ volumeId: 'v-bad', targetPath: await targetFor(h.dir, badPod), volumeContext: badCtx }).then(
        () => expect.fail('the bad publish succeeded'),
        (e: Error & { details?: string }) => errorTexts.push(e.message, e.details ?? ''),
      );
      await eventually(() => (h.stack.kube.list('v1', 'Event', APP.namespace).length > 0 ? true : undefined), 'the FailedMount Event');
    } finally {
      provider.close();
      csi.close();
    }
  }, 60_000);

  afterAll(async () => {
    await h?.stop();
  });

  /** The JWTs inside the tokens attribute: what would leak if attributes were logged. */
  function jwts(): string[] {
    return tokens.flatMap((t) => [...t.matchAll(/eyJ[\w-]+\.[\w-]+\.[\w-]+/g)].map((m) => m[0]));
  }

  it('the mounts really read the canary and the failures really happened after reading it', () => {
    const calls = h.stack.aws.counters.byAction() as Record<string, number>;
    expect((calls['BatchGetSecretValue'] ?? 0) + (calls['GetSecretValue'] ?? 0)).toBeGreaterThanOrEqual(2);
    expect(errorTexts.join('\n')).toMatch(/nested/);
    expect(jwts().length).toBeGreaterThan(0);
  });

  it('is not in the logs, which do say what happened', () => {
    const text = logs.text();
    expect(logs.lines.length).toBeGreaterThan(0);
    expect(text).toContain('provider mount failed');
    expect(text).toContain('node publish volume failed');
    expect(text).not.toContain(CANARY);
    for (const jwt of jwts()) expect(text).not.toContain(jwt);
  });

  it('is not in the gRPC error texts', () => {
    expect(errorTexts.length).toBe(4);
    for (const t of errorTexts) expect(t).not.toContain(CANARY);
  });

  it('is not in the metrics', async () => {
    const body = (await httpGet(h.agent.metricsPort!, '/metrics')).body;
    expect(body).toContain('node_publish_error_total{');
    expect(body).not.toContain(CANARY);
  });

  it('is not in the Kubernetes Events', () => {
    const events = JSON.stringify(h.stack.kube.list('v1', 'Event', APP.namespace));
    expect(events).toContain('FailedMount');
    expect(events).not.toContain(CANARY);
    for (const jwt of jwts()) expect(events).not.toContain(jwt);
  });

  it('is not in any file under the state dir, whose event log does record the canary mounts by name', async () => {
    const files = await filesUnder(h.agent.options.stateDir);
    const segments = files.filter((f) => /[/\\]eventlog[/\\]events-\d+\.ndjson$/.test(f));
    expect(segments.length, `event-log segments among ${files.join(', ')}`).toBeGreaterThan(0);
    const logText = (await Promise.all(segments.map((f) => readFile(f, 'utf8')))).join('');
    // The log identifies objects by name (and keyed hash), so the canary mounts are in it...
    expect(logText).toContain('"ops/canary"');
    expect(logText).toContain('"/ops/canary"');
    // ...but no file in the state dir holds the value, raw or base64.
    for (const file of files) {
      const bytes = await readFile(file);
      expect(bytes.includes(CANARY), file).toBe(false);
      expect(bytes.includes(Buffer.from(CANARY).toString('base64')), file).toBe(false);
    }
  });
});
