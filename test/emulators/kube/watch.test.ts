/**
 * Watches through the real client-node Watch: live ADDED/MODIFIED/DELETED, resuming from a
 * resourceVersion, selector transitions, 410 Expired, and streams cut by pause().
 */
import { connect as connectHttp2 } from 'node:http2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, rawRequest, startWithClients } from './helpers.js';
import type { Clients } from './helpers.js';

let c: Clients;
beforeAll(async () => {
  c = await startWithClients({}, ['w1', 'w2', 'w3', 'w4a', 'w4b', 'w6', 'w7']);
});
afterAll(async () => {
  await c.emulator.stop();
});

interface Seen {
  type: string;
  name: string;
}

/** Starts a watch and records what it sees; `ended` resolves when the stream ends. */
async function record(path: string, query: Record<string, string>) {
  const seen: Seen[] = [];
  const objects: Array<{ metadata?: { labels?: Record<string, string>; resourceVersion?: string } }> = [];
  let endedResolve: (err: unknown) => void = () => undefined;
  const ended = new Promise<unknown>((resolve) => (endedResolve = resolve));
  const controller = await c.watch.watch(
    path,
    query,
    (type, obj: { metadata?: { name?: string; labels?: Record<string, string>; resourceVersion?: string }; reason?: string }) => {
      seen.push({ type, name: obj.metadata?.name ?? obj.reason ?? '' });
      objects.push(obj);
    },
    (err) => endedResolve(err),
  );
  return { seen, objects, ended, stop: () => controller.abort() };
}

describe('watch', () => {
  it('streams ADDED, MODIFIED and DELETED from a listed resourceVersion', async () => {
    const list = await c.core.listNamespacedSecret({ namespace: 'w1' });
    const w = await record('/api/v1/namespaces/w1/secrets', { resourceVersion: list.metadata?.resourceVersion ?? '0' });
    try {
      await c.core.createNamespacedSecret({ namespace: 'w1', body: { metadata: { name: 's' } } });
      const current = await c.core.readNamespacedSecret({ name: 's', namespace: 'w1' });
      current.metadata = { ...current.metadata, labels: { changed: 'yes' } };
      await c.core.replaceNamespacedSecret({ name: 's', namespace: 'w1', body: current });
      await c.core.deleteNamespacedSecret({ name: 's', namespace: 'w1' });
      const seen = await eventually(() => (w.seen.some((e) => e.type === 'DELETED') ? w.seen : undefined), 'DELETED event');
      expect(seen[0]).toEqual({ type: 'ADDED', name: 's' });
      expect(seen.filter((e) => e.type === 'MODIFIED').length).toBeGreaterThanOrEqual(1);
      expect(seen[seen.length - 1]).toEqual({ type: 'DELETED', name: 's' });
    } finally {
      w.stop();
    }
  });

  it('replays history after a resourceVersion, and sends current objects as ADDED without one', async () => {
    const a = await c.core.createNamespacedSecret({ namespace: 'w2', body: { metadata: { name: 'a' } } });
    await c.core.createNamespacedSecret({ namespace: 'w2', body: { metadata: { name: 'b' } } });
    const resumed = await record('/api/v1/namespaces/w2/secrets', { resourceVersion: a.metadata?.resourceVersion ?? '' });
    const fresh = await record('/api/v1/namespaces/w2/secrets', {});
    try {
      expect(await eventually(() => (resumed.seen.length >= 1 ? resumed.seen : undefined), 'replayed event')).toEqual([{ type: 'ADDED', name: 'b' }]);
      expect(await eventually(() => (fresh.seen.length >= 2 ? fresh.seen : undefined), 'initial events')).toEqual([
        { type: 'ADDED', name: 'a' },
        { type: 'ADDED', name: 'b' },
      ]);
    } finally {
      resumed.stop();
      fresh.stop();
    }
  });

  it('reports objects entering and leaving a label selector as ADDED and DELETED', async () => {
    const list = await c.core.listNamespacedPod({ namespace: 'w3' });
    const w = await record('/api/v1/namespaces/w3/pods', { resourceVersion: list.metadata?.resourceVersion ?? '0', labelSelector: 'app=web' });
    try {
      const pod = await c.core.createNamespacedPod({ namespace: 'w3', body: { metadata: { name: 'p' }, spec: { containers: [{ name: 'c', image: 'x' }] } } });
      const labelled = await c.core.replaceNamespacedPod({ name: 'p', namespace: 'w3', body: { ...pod, metadata: { ...pod.metadata, labels: { app: 'web' } } } });
      const relabelled = await c.core.replaceNamespacedPod({ name: 'p', namespace: 'w3', body: { ...labelled, metadata: { ...labelled.metadata, labels: { app: 'db' } } } });
      const seen = await eventually(() => (w.seen.length >= 2 ? w.seen : undefined), 'selector transitions');
      expect(seen).toEqual([
        { type: 'ADDED', name: 'p' },
        { type: 'DELETED', name: 'p' },
      ]);
      // As the API server sends it: the object as the watcher last saw it (still matching its
      // selector), at the resourceVersion of the change that took it out.
      expect(w.objects[1]?.metadata?.labels).toEqual({ app: 'web' });
      expect(w.objects[1]?.metadata?.resourceVersion).toBe(relabelled.metadata?.resourceVersion);
    } finally {
      w.stop();
    }
  });

  it('watches across all namespaces', async () => {
    const list = await c.core.listSecretForAllNamespaces();
    const w = await record('/api/v1/secrets', { resourceVersion: list.metadata?.resourceVersion ?? '0' });
    try {
      await c.core.createNamespacedSecret({ namespace: 'w4a', body: { metadata: { name: 'x' } } });
      await c.core.createNamespacedSecret({ namespace: 'w4b', body: { metadata: { name: 'y' } } });
      expect(await eventually(() => (w.seen.length >= 2 ? w.seen : undefined), 'two ADDED')).toEqual([
        { type: 'ADDED', name: 'x' },
        { type: 'ADDED', name: 'y' },
      ]);
    } finally {
      w.stop();
    }
  });

  it('answers a watch from a resourceVersion the server has not reached with 504 ResourceVersionTooLarge', async () => {
    // As after an emulator restart on the same port: the informer's version came from the old one.
    const list = await c.core.listNamespacedSecret({ namespace: 'w1' });
    const ahead = Number(list.metadata?.resourceVersion) + 1000;
    const res = await rawRequest(c.emulator, `/api/v1/namespaces/w1/secrets?watch=1&resourceVersion=${ahead}`, { token: c.emulator.token });
    expect(res.code).toBe(504);
    expect(JSON.parse(res.body)).toMatchObject({
      kind: 'Status',
      reason: 'Timeout',
      code: 504,
      message: `Too large resource version: ${ahead}, current: ${list.metadata?.resourceVersion}`,
      details: { causes: [{ reason: 'ResourceVersionTooLarge' }], retryAfterSeconds: 1 },
    });
  });

  it('ends a watch at once for a negative timeoutSeconds, as the API server does', async () => {
    // It never timed out at all, so this request never ended.
    const res = await rawRequest(c.emulator, '/api/v1/namespaces/w1/secrets?watch=true&timeoutSeconds=-1', { token: c.emulator.token });
    expect(res.code).toBe(200);
  });

  it('keeps a watch with a timeoutSeconds past the timer range open, instead of ending it after 1 ms', async () => {
    const w = await record('/api/v1/namespaces/w6/secrets', { timeoutSeconds: '99999999999' });
    let ended = false;
    void w.ended.then(() => (ended = true));
    try {
      await c.core.createNamespacedSecret({ namespace: 'w6', body: { metadata: { name: 'later' } } });
      await eventually(() => (ended || w.seen.length > 0 ? true : undefined), 'the event or the end of the watch');
      expect(ended).toBe(false);
      expect(w.seen).toEqual([{ type: 'ADDED', name: 'later' }]);
    } finally {
      w.stop();
    }
  });

  it('closes the watch of a client that stops reading, instead of queueing its events without bound', async () => {
    await c.core.createNamespacedSecret({ namespace: 'w7', body: { metadata: { name: 'big' } } });
    // HTTP/2, as client-go speaks it: its flow control leaves unread events queued in the emulator.
    const session = connectHttp2(c.emulator.url, { ca: c.emulator.caPem });
    try {
      const stream = session.request({ ':path': '/api/v1/namespaces/w7/secrets?watch=true', authorization: `Bearer ${c.emulator.token}` });
      await new Promise((resolve) => stream.once('response', resolve));
      stream.pause();
      // About 0.9 MB an event, 22 MB in all: twice what a watcher may leave unread (10 MiB).
      const writes = 24;
      const big = Buffer.alloc(700 * 1024).toString('base64');
      for (let i = 0; i < writes; i++) {
        const body = JSON.stringify({ metadata: { labels: { n: String(i) } }, data: { big } });
        const res = await rawRequest(c.emulator, '/api/v1/namespaces/w7/secrets/big', { method: 'PATCH', token: c.emulator.token, body, contentType: 'application/merge-patch+json' });
        expect(res.code).toBe(200);
      }
      const outcome = await new Promise<string>((resolve) => {
        let text = '';
        stream.on('data', (chunk: Buffer) => {
          text += chunk.toString('utf8');
          if (text.includes(`"n":"${writes - 1}"`)) resolve('every event arrived');
        });
        stream.on('close', () => resolve('closed'));
        stream.resume();
      });
      expect(outcome).toBe('closed');
    } finally {
      session.destroy();
    }
  });

  it('ends open watches when the API server is paused', async () => {
    const w = await record('/api/v1/namespaces/w5/secrets', {});
    c.emulator.pause();
    try {
      await w.ended;
    } finally {
      c.emulator.resume();
    }
    expect(w.seen).toEqual([]);
  });
});
