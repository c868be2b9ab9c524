import type { IncomingMessage, ServerResponse } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KubeSecretWriter } from '../../../src/adapters/kubernetes/secret-writer.js';
import { MANAGED_LABEL } from '../../../src/core/secrets/desired-secret.js';
import type { DesiredSecret } from '../../../src/core/secrets/desired-secret.js';
import { startFakeApiServer } from '../../support/fake-api-server.js';
import type { FakeApiServer } from '../../support/fake-api-server.js';
import { goJson } from '../../support/go-json.js';

/**
 * The Secret endpoints of an API server, answering as a real one does: map keys come back sorted,
 * whatever order the client sent them in. Counts the writes.
 */
class SortingSecretApi {
  readonly secrets = new Map<string, Record<string, unknown>>();
  writes = 0;
  private version = 0;

  readonly handle = (req: IncomingMessage, res: ServerResponse): void => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const match = /^\/api\/v1\/namespaces\/([^/]+)\/secrets(?:\/([^/?]+))?/.exec(req.url ?? '');
      if (match === null) return this.send(res, 404, { kind: 'Status', code: 404, reason: 'NotFound' });
      const [, namespace, name] = match;
      if (req.method === 'GET') {
        const stored = this.secrets.get(`${namespace}/${name}`);
        return stored === undefined ? this.send(res, 404, { kind: 'Status', apiVersion: 'v1', status: 'Failure', reason: 'NotFound', code: 404 }) : this.send(res, 200, stored);
      }
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { metadata: Record<string, unknown> };
      const secretName = String(body.metadata['name']);
      this.writes += 1;
      this.version += 1;
      const stored = { ...body, metadata: { ...body.metadata, namespace, resourceVersion: String(this.version) } };
      this.secrets.set(`${namespace}/${secretName}`, stored);
      return this.send(res, req.method === 'POST' ? 201 : 200, stored);
    });
  };

  private send(res: ServerResponse, status: number, body: unknown): void {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(goJson(body));
  }
}

describe('KubeSecretWriter against an API server that sorts map keys', () => {
  const api = new SortingSecretApi();
  let server: FakeApiServer;
  let writer: KubeSecretWriter;

  beforeAll(async () => {
    server = await startFakeApiServer(api.handle);
    writer = new KubeSecretWriter(server.kubeConfig);
  });

  afterAll(() => server.close());

  it('finds a Secret it wrote unchanged although labels, annotations and data come back in another key order', async () => {
    // Built as the core builds it: the SPC's labels first, then the managed label ("zone" sorts after it).
    const desired: DesiredSecret = {
      namespace: 'default',
      name: 'db',
      type: 'Opaque',
      labels: { zone: 'eu-west-1a', app: 'db', [MANAGED_LABEL]: 'true' },
      annotations: { 'team.example.com/owner': 'payments', 'a.example.com/note': 'x' },
      data: { username: new TextEncoder().encode('u'), PASSWORD: new TextEncoder().encode('p') },
    };
    const owners = { pods: [{ name: 'pod-a', uid: 'a' }], released: new Set<string>() };
    expect(await writer.apply(desired, owners)).toBe('created');
    expect(await writer.apply(desired, owners)).toBe('unchanged');
    expect(api.writes).toBe(1);
  });
});
