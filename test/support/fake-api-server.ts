/**
 * A plain-HTTP stand-in for an API server whose answers a test scripts, with a KubeConfig that
 * points the real client-node clients at it. For behaviour the emulator does not have on purpose
 * (Go's sorted map keys, an object vanishing between two calls).
 */
import { createServer } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { KubeConfig } from '@kubernetes/client-node';

export interface FakeApiServer {
  kubeConfig: KubeConfig;
  close(): Promise<void>;
}

export async function startFakeApiServer(handle: (req: IncomingMessage, res: ServerResponse) => void): Promise<FakeApiServer> {
  const server = createServer(handle);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromOptions({
    clusters: [{ name: 'fake', server: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, skipTLSVerify: true }],
    users: [{ name: 'fake' }],
    contexts: [{ name: 'fake', cluster: 'fake', user: 'fake' }],
    currentContext: 'fake',
  });
  return { kubeConfig, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}
