import type { IncomingMessage, ServerResponse } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KubePodStatusStore } from '../../../src/adapters/kubernetes/pod-status-store.js';
import type { PodStatusRecord } from '../../../src/core/ports/pod-status-store.js';
import { startFakeApiServer } from '../../support/fake-api-server.js';
import type { FakeApiServer } from '../../support/fake-api-server.js';
import { goJson } from '../../support/go-json.js';

/**
 * The SecretProviderClassPodStatus endpoints of an API server, answering as a real one does for a
 * custom resource: stored as a Go map, so every object comes back with its keys sorted. Records the
 * verbs it was sent.
 */
class SortingPodStatusApi {
  readonly stored = new Map<string, Record<string, unknown>>();
  readonly verbs: string[] = [];
  /** Deletes the object right after the next create is refused, as the garbage collector might. */
  goneAfterNextConflict = false;
  private version = 0;

  readonly handle = (req: IncomingMessage, res: ServerResponse): void => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const match = /^\/apis\/secrets-store\.csi\.x-k8s\.io\/v1\/namespaces\/([^/]+)\/secretproviderclasspodstatuses(?:\/([^/?]+))?/.exec(req.url ?? '');
      if (match === null) return this.send(res, 404, { kind: 'Status', code: 404, reason: 'NotFound' });
      this.verbs.push(req.method ?? '');
      const [, namespace, name] = match;
      if (req.method === 'GET') {
        const found = this.stored.get(`${namespace}/${name}`);
        return found === undefined ? this.send(res, 404, { kind: 'Status', apiVersion: 'v1', status: 'Failure', reason: 'NotFound', code: 404 }) : this.send(res, 200, found);
      }
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { metadata: Record<string, unknown> };
      const key = `${namespace}/${String(body.metadata['name'])}`;
      if (req.method === 'POST' && this.stored.has(key)) {
        if (this.goneAfterNextConflict) {
          this.goneAfterNextConflict = false;
          this.stored.delete(key);
        }
        return this.send(res, 409, { kind: 'Status', apiVersion: 'v1', status: 'Failure', reason: 'AlreadyExists', code: 409 });
      }
      this.version += 1;
      const object = { ...body, metadata: { ...body.metadata, namespace, resourceVersion: String(this.version) } };
      this.stored.set(key, object);
      return this.send(res, req.method === 'POST' ? 201 : 200, object);
    });
  };

  private send(res: ServerResponse, status: number, body: unknown): void {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(goJson(body));
  }
}

describe('KubePodStatusStore against an API server that sorts a custom resource’s keys', () => {
  const api = new SortingPodStatusApi();
  let server: FakeApiServer;
  let store: KubePodStatusStore;

  beforeAll(async () => {
    server = await startFakeApiServer(api.handle);
    store = new KubePodStatusStore(server.kubeConfig);
  });

  afterAll(() => server.close());

  it('leaves an unchanged status alone on a republish: create, AlreadyExists, read, no update', async () => {
    const record: PodStatusRecord = {
      name: 'web-app-spc',
      namespace: 'app',
      nodeName: 'node-1',
      podName: 'web',
      podUid: 'uid-1',
      secretProviderClassName: 'spc',
      targetPath: '/var/lib/kubelet/pods/uid-1/volumes/kubernetes.io~csi/secrets/mount',
      objects: [{ id: 'secret/db', version: 'v1' }],
    };
    await store.upsert(record);
    await store.upsert(record);
    await store.upsert(record);
    expect(api.verbs).toEqual(['POST', 'POST', 'GET', 'POST', 'GET']);
  });

  it('creates the status after all when it is gone between the refused create and the read', async () => {
    const record: PodStatusRecord = { name: 'api-app-spc', namespace: 'app', nodeName: 'node-1', podName: 'api', podUid: 'uid-2', secretProviderClassName: 'spc', targetPath: '/t2', objects: [] };
    await store.upsert(record);
    api.verbs.length = 0;
    api.goneAfterNextConflict = true;
    await store.upsert({ ...record, podUid: 'uid-3' });
    expect(api.verbs).toEqual(['POST', 'GET', 'POST']);
    expect(api.stored.get('app/api-app-spc')).toMatchObject({ metadata: { ownerReferences: [{ uid: 'uid-3' }] } });
  });
});
