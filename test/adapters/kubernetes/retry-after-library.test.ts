import { HttpMethod, RequestContext, ResponseContext } from '@kubernetes/client-node';
import type { PromiseHttpLibrary } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadKubeConfig } from '../../../src/adapters/kubernetes/kube-config.js';
import type { PooledKubeConfig } from '../../../src/adapters/kubernetes/kube-config.js';
import { KubePodStatusStore } from '../../../src/adapters/kubernetes/pod-status-store.js';
import { MAX_RETRY_AFTER_SECONDS, RetryAfterHttpLibrary } from '../../../src/adapters/kubernetes/retry-after-library.js';
import { CachedServiceAccountDirectory } from '../../../src/adapters/kubernetes/service-account-directory.js';
import { startKubeEmulator } from '../../../src/emulators/kube/index.js';
import type { KubeEmulator } from '../../../src/emulators/kube/index.js';

/** A server that answers from a script, one answer per request, and whose body reads are counted. */
class ScriptedServer implements PromiseHttpLibrary {
  sent = 0;
  bodiesRead = 0;
  constructor(private readonly answers: { status: number; retryAfter?: string }[]) {}

  send(): Promise<ResponseContext> {
    const answer = this.answers[Math.min(this.sent, this.answers.length - 1)] ?? { status: 200 };
    this.sent += 1;
    const body = {
      text: () => Promise.resolve(''),
      binary: () => {
        this.bodiesRead += 1;
        return Promise.resolve(Buffer.alloc(0));
      },
    };
    return Promise.resolve(new ResponseContext(answer.status, answer.retryAfter === undefined ? {} : { 'retry-after': answer.retryAfter }, body));
  }
}

function retrying(server: ScriptedServer): { library: RetryAfterHttpLibrary; waits: number[] } {
  const waits: number[] = [];
  const library = new RetryAfterHttpLibrary(server, {
    delay: (ms) => {
      waits.push(ms);
      return Promise.resolve();
    },
  });
  return { library, waits };
}

const request = () => new RequestContext('https://api.example/api/v1/namespaces/a/serviceaccounts/b', HttpMethod.GET);

describe('RetryAfterHttpLibrary', () => {
  it('sends a throttled request again after the seconds the server asked for', async () => {
    const server = new ScriptedServer([{ status: 429, retryAfter: '2' }, { status: 503, retryAfter: '1' }, { status: 200 }]);
    const { library, waits } = retrying(server);
    expect((await library.send(request())).httpStatusCode).toBe(200);
    expect(waits).toEqual([2000, 1000]);
    expect(server.bodiesRead).toBe(2);
  });

  it('answers at once when the server did not ask to retry: a 5xx without Retry-After, an HTTP date, a 4xx', async () => {
    for (const answer of [{ status: 500 }, { status: 503, retryAfter: 'Wed, 21 Oct 2026 07:28:00 GMT' }, { status: 404, retryAfter: '1' }]) {
      const server = new ScriptedServer([answer, { status: 200 }]);
      const { library, waits } = retrying(server);
      expect((await library.send(request())).httpStatusCode).toBe(answer.status);
      expect(waits).toEqual([]);
    }
  });

  it("stops waiting for the server once the request's caller gives up", async () => {
    const caller = new AbortController();
    // The caller (a mount past kubelet's deadline) gives up while the server's 10 s wait runs.
    const server = new (class extends ScriptedServer {
      override send(): Promise<ResponseContext> {
        const answer = super.send();
        caller.abort();
        return answer;
      }
    })([{ status: 429, retryAfter: '10' }]);
    const library = new RetryAfterHttpLibrary(server);
    const throttled = request();
    throttled.setSignal(caller.signal);
    await expect(library.send(throttled)).rejects.toMatchObject({ name: 'AbortError' });
    expect(server.sent).toBe(1);
  });

  it('gives up after ten retries and returns the last refusal; a long wait is cut', async () => {
    const server = new ScriptedServer([{ status: 429, retryAfter: '600' }]);
    const { library, waits } = retrying(server);
    expect((await library.send(request())).httpStatusCode).toBe(429);
    expect(server.sent).toBe(11);
    expect(waits).toEqual(Array.from({ length: 10 }, () => MAX_RETRY_AFTER_SECONDS * 1000));
  });
});

describe('the agent’s API clients against a throttling API server (emulator, HTTP/2)', () => {
  let kube: KubeEmulator;
  let kc: PooledKubeConfig;
  beforeAll(async () => {
    kube = await startKubeEmulator();
    kube.apply({ apiVersion: 'v1', kind: 'ServiceAccount', metadata: { namespace: 'app', name: 'web', annotations: { 'eks.amazonaws.com/role-arn': 'arn:aws:iam::111122223333:role/web' } } });
    kc = loadKubeConfig(undefined, {});
    kc.loadFromString(kube.kubeconfigYaml());
  });
  afterAll(async () => {
    kc.closeConnections();
    await kube.stop();
  });

  it('rides out 429s on a first mount’s pod status create and service account read', async () => {
    kube.counters.reset();
    kube.throttle({ verb: 'create', resource: 'secretproviderclasspodstatuses', times: 2, retryAfterSeconds: 0 });
    kube.throttle({ verb: 'get', resource: 'serviceaccounts', times: 1, retryAfterSeconds: 0 });
    const statuses = new KubePodStatusStore(kc);
    await statuses.upsert({ name: 'web-app-spc', namespace: 'app', nodeName: 'n1', podName: 'web', podUid: 'u1', secretProviderClassName: 'spc', targetPath: '/t', objects: [] });
    const accounts = new CachedServiceAccountDirectory(kc);
    await expect(accounts.roleArnOf('app', 'web')).resolves.toBe('arn:aws:iam::111122223333:role/web');
    expect(kube.get('secrets-store.csi.x-k8s.io/v1', 'SecretProviderClassPodStatus', 'app', 'web-app-spc')).toBeDefined();
    expect(kube.counters.byVerbResource()).toMatchObject({ 'create secretproviderclasspodstatuses': 3, 'get serviceaccounts': 2 });
  });

  it("carries the publish's signal to the request: a caller that gave up sends nothing", async () => {
    kube.counters.reset();
    const gone = new AbortController();
    gone.abort();
    const statuses = new KubePodStatusStore(kc);
    const record = { name: 'late-app-spc', namespace: 'app', nodeName: 'n1', podName: 'late', podUid: 'u2', secretProviderClassName: 'spc', targetPath: '/t2', objects: [] };
    await expect(statuses.upsert(record, gone.signal)).rejects.toThrow();
    expect(kube.counters.byVerbResource()['create secretproviderclasspodstatuses'] ?? 0).toBe(0);
    await statuses.upsert(record, new AbortController().signal);
    expect(kube.get('secrets-store.csi.x-k8s.io/v1', 'SecretProviderClassPodStatus', 'app', 'late-app-spc')).toBeDefined();
  });
});
