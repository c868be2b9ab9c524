/**
 * The metrics endpoint after a real mount through the provider door: upstream series keep their
 * names, and secretlet's own series count what the mount actually did against the AWS emulator.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createProviderClient } from '../../src/adapters/grpc/index.js';
import { startHarness } from '../support/agent-harness.js';
import type { Harness } from '../support/agent-harness.js';
import { APP, addPod, httpGet, providerMountRequest, seedApp } from './world.js';

/** `name{labels} value` lines of one series name (exact name, any labels). */
function samples(body: string, name: string): Array<{ labels: string; value: number }> {
  return body
    .split('\n')
    .filter((l) => l.startsWith(name + '{') || l.startsWith(name + ' '))
    .map((l) => {
      const m = /^[^{ ]+(\{.*\})? (\S+)$/.exec(l);
      return { labels: m?.[1] ?? '', value: Number(m?.[2]) };
    });
}

function total(body: string, name: string, labelFilter: (labels: string) => boolean = () => true): number {
  return samples(body, name)
    .filter((s) => labelFilter(s.labels))
    .reduce((a, s) => a + s.value, 0);
}

describe('metrics endpoint', () => {
  let h: Harness;
  let body: string;

  beforeAll(async () => {
    h = await startHarness();
    seedApp(h.stack);
    h.stack.aws.putSecret({ name: 'ops/a', region: APP.region, string: 'alpha' });
    h.stack.aws.putSecret({ name: 'ops/b', region: APP.region, string: 'beta' });
    h.stack.aws.putParameter({ name: '/ops/p', region: APP.region, value: 'gamma' });
    const objects = `- objectName: "ops/a"\n  objectType: secretsmanager\n- objectName: "ops/b"\n  objectType: secretsmanager\n- objectName: "/ops/p"\n  objectType: ssmparameter\n  objectAlias: p\n`;
    const client = createProviderClient(h.providerSocket);
    try {
      await client.mount(await providerMountRequest({ stack: h.stack, dir: h.dir, pod: addPod(h.stack), spc: 'metrics-spc', objects }));
      // The same pod again: credentials must come from the cache this time.
      await client.mount(await providerMountRequest({ stack: h.stack, dir: h.dir, pod: addPod(h.stack), spc: 'metrics-spc', objects }));
      // And one that fails: a secret that does not exist.
      const missing = `- objectName: "ops/missing"\n  objectType: secretsmanager\n`;
      await expect(client.mount(await providerMountRequest({ stack: h.stack, dir: h.dir, pod: addPod(h.stack), spc: 'metrics-spc', objects: missing }))).rejects.toThrow();
    } finally {
      client.close();
    }
    const port = h.agent.metricsPort;
    if (port === undefined) throw new Error('metrics server not bound');
    const res = await httpGet(port, '/metrics');
    expect(res.status).toBe(200);
    body = res.body;
  }, 60_000);

  afterAll(async () => {
    await h?.stop();
  });

  it('keeps the upstream driver series names', () => {
    for (const name of ['node_publish_total', 'node_publish_error_total', 'node_unpublish_total', 'node_unpublish_error_total', 'rotation_reconcile_total', 'rotation_reconcile_duration_sec']) {
      expect(body, name).toContain(`# TYPE ${name} `);
    }
  });

  it('counts the mounts by door and outcome, with their durations', () => {
    expect(total(body, 'secretlet_provider_mount_total', (l) => l.includes('outcome="ok"'))).toBe(2);
    expect(total(body, 'secretlet_provider_mount_total', (l) => l.includes('outcome="error"'))).toBe(1);
    expect(total(body, 'secretlet_mount_duration_seconds_count', (l) => l.includes('door="provider"') && l.includes('outcome="ok"'))).toBe(2);
    expect(total(body, 'secretlet_mount_duration_seconds_count', (l) => l.includes('door="provider"') && l.includes('outcome="error"'))).toBe(1);
  });

  it('counts AWS calls by action and outcome, agreeing with what the AWS endpoint saw', () => {
    const seen = h.stack.aws.counters.byAction() as Record<string, number>;
    const ours = samples(body, 'secretlet_aws_calls_total');
    expect(Object.keys(seen)).toContain('BatchGetSecretValue');
    expect(ours.length).toBeGreaterThan(0);
    for (const action of ['BatchGetSecretValue', 'GetParameters']) {
      if (seen[action] === undefined) continue;
      expect(total(body, 'secretlet_aws_calls_total', (l) => l.includes(`action="${action}"`) && l.includes('outcome="ok"')), action).toBe(seen[action]);
    }
    expect(ours.every((s) => /action="[A-Za-z]+"/.test(s.labels) && /outcome="[a-z_]+"/.test(s.labels))).toBe(true);
  });

  it('reports batch sizes and credential cache hits and misses', () => {
    expect(total(body, 'secretlet_aws_batch_size_count')).toBeGreaterThan(0);
    expect(total(body, 'secretlet_credential_cache_total', (l) => l.includes('result="miss"'))).toBeGreaterThanOrEqual(1);
    expect(total(body, 'secretlet_credential_cache_total', (l) => l.includes('result="hit"'))).toBeGreaterThanOrEqual(1);
  });

  it('exposes the coalescing, rotation, event log and sync lag series', () => {
    for (const name of [
      'secretlet_coalesced_requests_total',
      'secretlet_rotation_cycle_duration_seconds',
      'secretlet_rotation_changed_objects_total',
      'secretlet_event_log_bytes',
      'secretlet_event_log_replay_seconds',
      'secretlet_secret_sync_lag_events',
    ]) {
      expect(body, name).toContain(`# TYPE ${name} `);
    }
    // Measured at scrape time: the mounts above were appended to the log.
    expect(total(body, 'secretlet_event_log_bytes')).toBeGreaterThan(0);
  });

  it('serves process metrics and nothing on unknown paths', async () => {
    expect(body).toContain('process_cpu_seconds_total');
    expect((await httpGet(h.agent.metricsPort!, '/nope')).status).toBe(404);
  });
});
