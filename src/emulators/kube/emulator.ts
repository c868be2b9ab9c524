/**
 * The emulator's handle: starts the API server on a loopback port, and gives tests and the demo
 * direct access to the store (seed objects without HTTP), the token issuer (play kubelet), the
 * request counters and the outage switch.
 */
import { randomBytes } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { JsonWebKey } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { RequestCounters } from './counters.js';
import { kubeconfigYaml } from './kubeconfig.js';
import { writePrivateFile } from './private-file.js';
import { typeById, typeByKind } from './resources.js';
import type { ResourceType } from './resources.js';
import { KubeApiServer } from './server.js';
import { ObjectStore } from './store.js';
import { TokenIssuer, derivedUid } from './tokens.js';
import type { MintedToken } from './tokens.js';
import type { KubeObject } from './types.js';
import { inVersion } from './versions.js';
import { Throttles } from './throttles.js';
import type { ThrottleRule } from './throttles.js';
import { WatchStreams } from './watch.js';
import { selfSignedCertificate } from './x509.js';

export interface KubeEmulatorOptions {
  /** @default '127.0.0.1' */
  host?: string;
  /** @default 0 (any free port) */
  port?: number;
  /** Bearer token of the kubeconfig user. @default a random token */
  token?: string;
  /** Clock in epoch milliseconds, for timestamps and token lifetimes. @default Date.now */
  now?: () => number;
  /**
   * Serve HTTPS with a self-signed certificate (in the kubeconfig as certificate-authority-data).
   * kubectl sends a bearer token only over TLS, so turn this off only for clients that do not care.
   * @default true
   */
  tls?: boolean;
  /**
   * Over TLS, offer HTTP/2 next to HTTP/1.1, as a real API server does (kubectl and the agent take
   * it). false serves HTTP/1.1 only, as some proxies in front of an API server do.
   * @default true
   */
  http2?: boolean;
}

export interface MintServiceAccountTokenOptions {
  namespace: string;
  serviceAccount: string;
  audiences: string[];
  podName?: string;
  podUid?: string;
  /** @default 3600 */
  expirationSeconds?: number;
}

export interface KubeEmulator {
  readonly url: string;
  readonly issuer: string;
  readonly token: string;
  /** PEM of the self-signed certificate (its own CA) when serving TLS, for clients outside kubeconfig. */
  readonly caPem: string | undefined;
  /** A kubeconfig with cluster, user and context `secretlet-local`. */
  kubeconfigYaml(): string;
  writeKubeconfig(path: string): Promise<void>;
  /** A token as kubelet would get it from TokenRequest (works without the service account or pod existing). */
  mintServiceAccountToken(o: MintServiceAccountTokenOptions): MintedToken;
  jwks(): { keys: JsonWebKey[] };
  /**
   * Create-or-replace directly in the store, ignoring resourceVersion. Unlike an HTTP create, a
   * create here keeps a `metadata.uid` the caller gives (so seeded Events and owner references can
   * name it); a replace keeps the stored object's uid. Validation still applies (422 errors throw).
   */
  apply(obj: KubeObject): KubeObject;
  get(apiVersion: string, kind: string, namespace: string | undefined, name: string): KubeObject | undefined;
  list(apiVersion: string, kind: string, namespace?: string): KubeObject[];
  /** Deletes like the API server (namespace contents and garbage collection follow); absent is fine. */
  delete(apiVersion: string, kind: string, namespace: string | undefined, name: string): void;
  counters: { byVerbResource(): Record<string, number>; total(): number; connections(): number; reset(): void };
  /**
   * The next `times` requests of a verb and resource (either may be left out: any) are refused as
   * API Priority and Fairness does: 429 TooManyRequests with Retry-After. Rules add up; each refusal
   * is counted in `counters` like any request.
   */
  throttle(rule: ThrottleRule): void;
  /** Every request fails with 503 and open watches end, until resume(). */
  pause(): void;
  resume(): void;
  stop(): Promise<void>;
}

function typeOrThrow(apiVersion: string, kind: string): ResourceType {
  const type = typeByKind(apiVersion, kind);
  if (type === undefined) throw new TypeError(`the Kubernetes emulator does not serve ${apiVersion} ${kind}`);
  return type;
}

/** Addresses that mean "every interface": a server can bind them, but no client can connect to them by name. */
const WILDCARD_TO_LOOPBACK: Readonly<Record<string, string>> = { '0.0.0.0': '127.0.0.1', '::': '::1' };

/** Names the certificate must carry: the bound host plus the loopback names clients may use. */
function tlsHosts(host: string): string[] {
  return [...new Set([host, '127.0.0.1', '::1', 'localhost'])].filter((h) => WILDCARD_TO_LOOPBACK[h] === undefined);
}

/**
 * The URL clients use (kubeconfig `server`, token issuer): the bound address, except that a
 * wildcard bind is reached over loopback, which the certificate covers (it cannot name 0.0.0.0).
 */
function clientUrl(scheme: 'http' | 'https', address: AddressInfo): string {
  const host = WILDCARD_TO_LOOPBACK[address.address] ?? address.address;
  return `${scheme}://${host.includes(':') ? `[${host}]` : host}:${address.port}`;
}

export async function startKubeEmulator(options: KubeEmulatorOptions = {}): Promise<KubeEmulator> {
  const now = options.now ?? Date.now;
  const host = options.host ?? '127.0.0.1';
  const token = options.token ?? randomBytes(24).toString('base64url');
  const store = new ObjectStore({ now });
  store.ensureNamespace('default');
  store.ensureNamespace('kube-system');
  const counters = new RequestCounters();
  const streams = new WatchStreams();

  // The issuer is the server's own URL, known only once the port is bound; requests cannot
  // arrive before `listen` resolves, so the server reads the issuer through this late binding.
  const issuerSlot: { current?: TokenIssuer } = {};
  const tls = options.tls === false ? undefined : selfSignedCertificate({ commonName: 'secretlet-kube-emulator', hosts: tlsHosts(host) });
  const throttles = new Throttles();
  const server = new KubeApiServer({
    store,
    streams,
    counters,
    throttles,
    token,
    ...(tls === undefined ? {} : { tls }),
    ...(options.http2 === undefined ? {} : { http2: options.http2 }),
    get issuer(): TokenIssuer {
      if (issuerSlot.current === undefined) throw new Error('token issuer used before the emulator listened');
      return issuerSlot.current;
    },
  });
  const address = await server.listen(host, options.port ?? 0);
  const url = clientUrl(tls === undefined ? 'http' : 'https', address);
  const caPem = tls?.certPem;
  const kubeconfig = (): string => kubeconfigYaml({ server: url, token, ...(caPem === undefined ? {} : { caPem }) });
  const minter = new TokenIssuer({ issuer: url, now });
  issuerSlot.current = minter;

  return {
    url,
    issuer: url,
    token,
    caPem,
    kubeconfigYaml: kubeconfig,
    // The parent is created as `kubectl config` does, so `--kubeconfig /tmp/new-dir/kubeconfig` works.
    writeKubeconfig: async (path) => {
      await mkdir(dirname(path), { recursive: true });
      await writePrivateFile(path, kubeconfig());
    },
    mintServiceAccountToken(o) {
      const saType = typeById('/serviceaccounts');
      const podType = typeById('/pods');
      const sa = saType === undefined ? undefined : store.get(saType, o.namespace, o.serviceAccount);
      let pod: { name: string; uid: string } | undefined;
      if (o.podName !== undefined) {
        const found = podType === undefined ? undefined : store.get(podType, o.namespace, o.podName);
        pod = { name: o.podName, uid: o.podUid ?? found?.metadata.uid ?? derivedUid('Pod', o.namespace, o.podName) };
      }
      return minter.mint({
        namespace: o.namespace,
        serviceAccount: o.serviceAccount,
        serviceAccountUid: sa?.metadata.uid ?? derivedUid('ServiceAccount', o.namespace, o.serviceAccount),
        audiences: o.audiences,
        ...(o.expirationSeconds === undefined ? {} : { expirationSeconds: o.expirationSeconds }),
        ...(pod === undefined ? {} : { pod }),
      });
    },
    jwks: () => minter.jwks(),
    apply(obj) {
      const type = typeOrThrow(obj.apiVersion, obj.kind);
      return inVersion(type, store.upsert(type, obj));
    },
    get(apiVersion, kind, namespace, name) {
      const type = typeOrThrow(apiVersion, kind);
      return inVersion(type, store.get(type, namespace, name));
    },
    list(apiVersion, kind, namespace) {
      const type = typeOrThrow(apiVersion, kind);
      return store.list(type, namespace).map((o) => inVersion(type, o));
    },
    delete(apiVersion, kind, namespace, name) {
      const type = typeOrThrow(apiVersion, kind);
      if (store.get(type, namespace, name) !== undefined) store.delete(type, namespace, name);
    },
    counters: {
      byVerbResource: () => counters.byVerbResource(),
      total: () => counters.total(),
      connections: () => counters.connections(),
      reset: () => counters.reset(),
    },
    throttle: (rule) => throttles.add(rule),
    pause: () => server.pause(),
    resume: () => server.resume(),
    stop: () => server.close(),
  };
}
