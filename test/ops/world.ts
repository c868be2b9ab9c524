/**
 * A small, realistic world for the operability tests: one service account with an IRSA role, secrets
 * it may read, an SPC, and the requests kubelet or the upstream driver would send for one pod. Also a
 * log sink that keeps every JSON line the agent writes, and an HTTP getter for the side door.
 */
import { mkdir } from 'node:fs/promises';
import { request } from 'node:http';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { createLogger } from '../../src/adapters/logging/logger.js';
import type { Logger } from '../../src/adapters/logging/logger.js';
import type { LocalStack } from '../../src/emulators/local-stack.js';
import { awsSpc } from '../support/kubelet-fixtures.js';

export const APP = {
  namespace: 'default',
  serviceAccount: 'app',
  roleArn: 'arn:aws:iam::111122223333:role/ops-app',
  region: 'us-east-1',
} as const;

export function seedApp(stack: LocalStack): void {
  stack.addServiceAccount({
    namespace: APP.namespace,
    name: APP.serviceAccount,
    roleArn: APP.roleArn,
    allow: { secrets: ['ops/*'], parameters: ['/ops/*'], batchGetSecretValue: true },
  });
}

export interface PodRef {
  name: string;
  uid: string;
}

let podCounter = 0;

/** A pod object in the kube emulator (Events are recorded against it), with a unique uid. */
export function addPod(stack: LocalStack, name = `app-${++podCounter}`): PodRef {
  const uid = `00000000-0000-4000-8000-${String(++podCounter).padStart(12, '0')}`;
  stack.kube.apply({ apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: APP.namespace, uid }, spec: { serviceAccountName: APP.serviceAccount, nodeName: 'node-1' } } as never);
  return { name, uid };
}

export function applySpc(stack: LocalStack, name: string, objects: string): void {
  stack.kube.apply(awsSpc({ name, namespace: APP.namespace, region: APP.region, objects }));
}

/** The pod attributes kubelet puts in volume_context (and the driver forwards in `attributes`). */
export function podAttributes(stack: LocalStack, pod: PodRef, spc: string): Record<string, string> {
  return {
    secretProviderClass: spc,
    'csi.storage.k8s.io/pod.name': pod.name,
    'csi.storage.k8s.io/pod.namespace': APP.namespace,
    'csi.storage.k8s.io/pod.uid': pod.uid,
    'csi.storage.k8s.io/serviceAccount.name': APP.serviceAccount,
    'csi.storage.k8s.io/ephemeral': 'true',
    'csi.storage.k8s.io/serviceAccount.tokens': stack.kubeletTokens({ namespace: APP.namespace, serviceAccount: APP.serviceAccount, podName: pod.name, podUid: pod.uid }),
  };
}

/** Kubelet's target path for the pod's inline volume, created (the driver creates it before Mount). */
export async function targetFor(dir: string, pod: PodRef, volume = 'secrets'): Promise<string> {
  const target = join(dir, 'pods', pod.uid, 'volumes', 'kubernetes.io~csi', volume, 'mount');
  await mkdir(target, { recursive: true });
  return target;
}

/** The provider-door request the upstream driver sends for `objects` (parameters inline, as the driver merges them). */
export async function providerMountRequest(o: { stack: LocalStack; dir: string; pod: PodRef; spc: string; objects: string }): Promise<{ attributes: string; secrets: string; targetPath: string; permission: string; currentObjectVersion: [] }> {
  const attributes = { region: APP.region, objects: o.objects, ...podAttributes(o.stack, o.pod, o.spc) };
  return { attributes: JSON.stringify(attributes), secrets: 'null', targetPath: await targetFor(o.dir, o.pod), permission: '420', currentObjectVersion: [] };
}

/** Collects every line the logger writes, for assertions on the log shape and on redaction. */
export class LogSink {
  readonly lines: string[] = [];
  readonly logger: Logger;

  constructor(level = 'debug') {
    const lines = this.lines;
    let partial = '';
    const stream = new Writable({
      write(chunk: Buffer | string, _enc, cb) {
        partial += chunk.toString();
        const parts = partial.split('\n');
        partial = parts.pop() ?? '';
        lines.push(...parts.filter((l) => l !== ''));
        cb();
      },
    });
    this.logger = createLogger({ level, destination: stream });
  }

  records(): Array<Record<string, unknown>> {
    return this.lines.map((l) => JSON.parse(l) as Record<string, unknown>);
  }

  text(): string {
    return this.lines.join('\n');
  }
}

export function httpGet(port: number, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method: 'GET' }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** Polls `check` until it returns a value other than undefined, or fails after a generous deadline. */
export async function eventually<T>(check: () => T | undefined | Promise<T | undefined>, what: string, deadlineMs = 20_000): Promise<T> {
  const until = Date.now() + deadlineMs;
  for (;;) {
    const v = await check();
    if (v !== undefined) return v;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
