import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { AwsClientPool } from './clients.js';

const cleanups: Array<() => Promise<void> | void> = [];

afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** An SSM endpoint that holds every answer until `release` is called. */
async function slowSsm() {
  let arrived!: () => void;
  const requestArrived = new Promise<void>((r) => (arrived = r));
  const held: http.ServerResponse[] = [];
  const server = http.createServer((req, res) => {
    req.resume();
    held.push(res);
    arrived();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  cleanups.push(() => new Promise<void>((r) => server.close(() => r())));
  return {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requestArrived,
    release: () => {
      for (const res of held.splice(0)) {
        res.setHeader('content-type', 'application/x-amz-json-1.1');
        res.end(JSON.stringify({ Parameters: [{ Name: '/app/db', Value: 'v', Version: 1 }], InvalidParameters: [] }));
      }
    },
  };
}

const credentials = async () => ({ accessKeyId: 'AK', secretAccessKey: 'SK', expiresAt: Date.now() + 3_600_000 });

describe('AwsClientPool', () => {
  it('lets a request of an evicted client finish (eviction does not destroy the shared agents)', async () => {
    const ssm = await slowSsm();
    const pool = new AwsClientPool({ endpoint: ssm.endpoint, maxClients: 1 });
    cleanups.push(() => pool.close());
    const pending = pool.ssm('us-east-1', 'a', credentials).getParameters({ Names: ['/app/db'], WithDecryption: true });
    await ssm.requestArrived;
    pool.ssm('us-east-1', 'b', credentials); // evicts client a
    ssm.release();
    await expect(pending).resolves.toMatchObject({ Parameters: [{ Name: '/app/db', Value: 'v' }] });
  });

  it('fails a request the endpoint accepted but never answers once the request timeout passes', async () => {
    const ssm = await slowSsm(); // never released: a blackholed VPC endpoint
    const pool = new AwsClientPool({ endpoint: ssm.endpoint, requestTimeoutMs: 200 });
    cleanups.push(() => pool.close());
    const pending = pool.ssm('us-east-1', 'a', credentials).getParameters({ Names: ['/app/db'], WithDecryption: true });
    await ssm.requestArrived;
    await expect(pending).rejects.toMatchObject({ name: 'TimeoutError' });
  });
});
