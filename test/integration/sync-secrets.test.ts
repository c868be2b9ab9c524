/**
 * Secret sync end to end: a real Agent (CSI door, InMemoryVolumeMounter, real atomic writer) against
 * the local AWS and Kubernetes emulators. Kubelet is played by a CSI client.
 */
import { generateKeyPairSync } from 'node:crypto';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createCsiClient } from '../../src/adapters/grpc/index.js';
import type { CsiClient } from '../../src/adapters/grpc/index.js';
import { InMemoryVolumeMounter } from '../../src/adapters/fs/index.js';
import type { KubeObject } from '../../src/emulators/kube/index.js';
import { createLogger } from '../../src/adapters/logging/logger.js';
import { compileAgentOptions } from '../../src/config/agent-options.js';
import { Agent } from '../../src/main/agent.js';
import { localAgentOptions, startHarness } from '../support/agent-harness.js';
import type { Harness } from '../support/agent-harness.js';
import { awsSpc } from '../support/kubelet-fixtures.js';

const NS = 'app';
const SA = 'web';
const REGION = 'us-east-1';
const ROLE = 'arn:aws:iam::111122223333:role/web';

interface Pod {
  name: string;
  uid: string;
  targetPath: string;
  volumeId: string;
}

let h: Harness | undefined;
let csi: CsiClient | undefined;
/** A second node's agent and its kubelet, when a test runs one. */
let second: { agent: Agent; csi: CsiClient } | undefined;

afterEach(async () => {
  second?.csi.close();
  await second?.agent.stop();
  second = undefined;
  csi?.close();
  csi = undefined;
  await h?.stop();
  h = undefined;
});

/** Another node's agent on the same emulators (its own sockets and state dir), as a DaemonSet runs one per node. */
async function startSecondNode(harness: Harness, nodeName: string): Promise<{ agent: Agent; csi: CsiClient }> {
  const dir = join(harness.dir, nodeName);
  const places = { dir, stack: harness.stack, csiEndpoint: `unix://${join(dir, 'csi.sock')}`, providerSocket: join(dir, 'aws.sock') };
  const agent = Agent.create(compileAgentOptions(localAgentOptions(places, { nodeName, rotationInterval: '0', mode: 'kubelet' })), {
    logger: createLogger({ level: 'silent' }),
    mounter: new InMemoryVolumeMounter(),
  });
  await agent.start();
  second = { agent, csi: createCsiClient(places.csiEndpoint) };
  return second;
}

async function setup(secretObjects: unknown[], objects: string, rotationInterval = '0'): Promise<{ h: Harness; csi: CsiClient }> {
  h = await startHarness({ mounter: new InMemoryVolumeMounter(), agent: { rotationInterval, mode: 'kubelet' } });
  h.stack.addServiceAccount({ namespace: NS, name: SA, roleArn: ROLE, allow: { secrets: ['*'], parameters: ['*'], batchGetSecretValue: true } });
  h.stack.kube.apply(awsSpc({ name: 'spc', namespace: NS, region: REGION, objects, secretObjects }));
  csi = createCsiClient(h.csiEndpoint);
  return { h, csi };
}

function createPod(harness: Harness, name: string, nodeName = 'node-1'): Pod {
  const pod = harness.stack.kube.apply({ apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: NS }, spec: { serviceAccountName: SA, nodeName } } as KubeObject);
  const uid = pod.metadata.uid ?? '';
  return { name, uid, volumeId: `csi-${name}`, targetPath: join(harness.dir, 'kubelet', 'pods', uid, 'volumes', 'kubernetes.io~csi', 'secrets', 'mount') };
}

async function publish(harness: Harness, client: CsiClient, pod: Pod): Promise<void> {
  await client.nodePublish({
    volumeId: pod.volumeId,
    targetPath: pod.targetPath,
    volumeContext: {
      secretProviderClass: 'spc',
      'csi.storage.k8s.io/pod.name': pod.name,
      'csi.storage.k8s.io/pod.namespace': NS,
      'csi.storage.k8s.io/pod.uid': pod.uid,
      'csi.storage.k8s.io/serviceAccount.name': SA,
      'csi.storage.k8s.io/serviceAccount.tokens': harness.stack.kubeletTokens({ namespace: NS, serviceAccount: SA, podName: pod.name, podUid: pod.uid }),
    },
  });
}

function secret(harness: Harness, name: string): KubeObject | undefined {
  return harness.stack.kube.get('v1', 'Secret', NS, name);
}

function dataOf(obj: KubeObject | undefined): Record<string, string> {
  const data = ((obj as { data?: Record<string, string> } | undefined)?.data ?? {}) as Record<string, string>;
  return Object.fromEntries(Object.entries(data).map(([k, v]) => [k, Buffer.from(v, 'base64').toString('utf8')]));
}

function ownerUids(obj: KubeObject | undefined): string[] {
  return (obj?.metadata.ownerReferences ?? []).map((o) => o.uid).sort();
}

/** Polls `check` until it passes; generous deadline because the machine is shared and loaded. */
async function eventually(check: () => void | Promise<void>, deadlineMs = 30_000): Promise<void> {
  const until = Date.now() + deadlineMs;
  for (;;) {
    try {
      await check();
      return;
    } catch (e) {
      if (Date.now() > until) throw e;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

const OPAQUE = [{ secretName: 'db', type: 'Opaque', labels: { team: 'web' }, annotations: { note: 'synced' }, data: [{ objectName: 'db-password', key: 'password' }] }];
const DB_OBJECTS = '- objectName: db-password\n  objectType: secretsmanager\n';

describe('Secret sync', () => {
  it('creates the Secret, follows rotation, tracks owners as pods come and go, and deletes it after the last pod', async () => {
    const { h, csi } = await setup(OPAQUE, DB_OBJECTS);
    h.stack.aws.putSecret({ name: 'db-password', region: REGION, string: 'pw-1' });
    const a = createPod(h, 'web-a');
    const b = createPod(h, 'web-b');

    await publish(h, csi, a);
    await eventually(() => {
      const s = secret(h, 'db');
      expect(dataOf(s)).toEqual({ password: 'pw-1' });
      expect(s?.metadata.labels).toEqual({ team: 'web', 'secrets-store.csi.k8s.io/managed': 'true' });
      expect(s?.metadata.annotations).toMatchObject({ note: 'synced' });
      expect(ownerUids(s)).toEqual([a.uid]);
    });

    await publish(h, csi, b);
    await eventually(() => expect(ownerUids(secret(h, 'db'))).toEqual([a.uid, b.uid].sort()));

    h.stack.aws.putSecret({ name: 'db-password', region: REGION, string: 'pw-2' });
    const cycle = await h.agent.rotation!.runCycle();
    expect(cycle.rewritten.sort()).toEqual([`${a.uid}/${a.volumeId}`, `${b.uid}/${b.volumeId}`].sort());
    await eventually(() => expect(dataOf(secret(h, 'db'))).toEqual({ password: 'pw-2' }));

    await csi.nodeUnpublish({ volumeId: a.volumeId, targetPath: a.targetPath });
    await eventually(() => expect(ownerUids(secret(h, 'db'))).toEqual([b.uid]));
    expect(dataOf(secret(h, 'db'))).toEqual({ password: 'pw-2' });

    await csi.nodeUnpublish({ volumeId: b.volumeId, targetPath: b.targetPath });
    await eventually(() => expect(secret(h, 'db')).toBeUndefined());
    // Every sync is checkpointed: nothing is left pending.
    expect(h.agent.secretSync!.pending()).toEqual([]);
  });

  it('follows a rotation of a JSON secret whose keys come from jmesPath files, without waiting for the resync', async () => {
    const creds = [{ secretName: 'db-creds', type: 'Opaque', data: [{ objectName: 'username', key: 'user' }, { objectName: 'password', key: 'pass' }] }];
    const objects = '- objectName: db-json\n  objectType: secretsmanager\n  jmesPath:\n    - path: username\n      objectAlias: username\n    - path: password\n      objectAlias: password\n';
    const { h, csi } = await setup(creds, objects);
    h.stack.aws.putSecret({ name: 'db-json', region: REGION, string: JSON.stringify({ username: 'app', password: 'pw-1' }) });
    await publish(h, csi, createPod(h, 'web-a'));
    await eventually(() => expect(dataOf(secret(h, 'db-creds'))).toEqual({ user: 'app', pass: 'pw-1' }));

    h.stack.aws.putSecret({ name: 'db-json', region: REGION, string: JSON.stringify({ username: 'app', password: 'pw-2' }) });
    const cycle = await h.agent.rotation!.runCycle();
    expect(cycle.rewritten).toHaveLength(1);
    // The resync is 5 minutes away: only the rotation's own record can bring the new value this soon.
    await eventually(() => expect(dataOf(secret(h, 'db-creds'))).toEqual({ user: 'app', pass: 'pw-2' }));
    expect(h.agent.secretSync!.pending()).toEqual([]);
  });

  it('follows an edit of secretObjects at the next republish, although rotation keeps the mount fresh', async () => {
    // With rotation on, a republish within the interval is answered from memory (no AWS read); an
    // edited secretObjects must still get through, as upstream reads the SPC on every reconcile.
    const { h, csi } = await setup(OPAQUE, DB_OBJECTS, '2m');
    h.stack.aws.putSecret({ name: 'db-password', region: REGION, string: 'pw-1' });
    const a = createPod(h, 'web-a');
    await publish(h, csi, a);
    await eventually(() => expect(secret(h, 'db')?.metadata.labels).toEqual({ team: 'web', 'secrets-store.csi.k8s.io/managed': 'true' }));

    h.stack.kube.apply(awsSpc({ name: 'spc', namespace: NS, region: REGION, objects: DB_OBJECTS, secretObjects: [{ ...OPAQUE[0]!, labels: { team: 'payments' } }] }));
    // Kubelet republishes every volume about every 75 s; the agent's SPC cache follows its watch.
    await eventually(async () => {
      await publish(h, csi, a);
      expect(secret(h, 'db')?.metadata.labels).toEqual({ team: 'payments', 'secrets-store.csi.k8s.io/managed': 'true' });
    });
    expect(dataOf(secret(h, 'db'))).toEqual({ password: 'pw-1' });
  });

  it('shares a Secret between nodes: each agent adds and drops only its own pods, and the last node deletes it', async () => {
    const { h, csi } = await setup(OPAQUE, DB_OBJECTS);
    h.stack.aws.putSecret({ name: 'db-password', region: REGION, string: 'pw-1' });
    const node2 = await startSecondNode(h, 'node-2');
    const a = createPod(h, 'web-a');
    const b = createPod(h, 'web-b', 'node-2');
    const c = createPod(h, 'web-c', 'node-2');
    // Someone else's reference (e.g. added by hand or another controller) is nobody's to drop.
    const foreign = { apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'web-rs', uid: 'rs-uid-1', controller: true };

    await publish(h, csi, a);
    await eventually(() => expect(ownerUids(secret(h, 'db'))).toEqual([a.uid]));
    const withForeign = secret(h, 'db')!;
    h.stack.kube.apply({ ...withForeign, metadata: { ...withForeign.metadata, ownerReferences: [...(withForeign.metadata.ownerReferences ?? []), foreign] } } as KubeObject);

    await publish(h, node2.csi, b);
    await publish(h, node2.csi, c);
    await eventually(() => expect(ownerUids(secret(h, 'db'))).toEqual([a.uid, b.uid, c.uid, foreign.uid].sort()));
    expect(secret(h, 'db')?.metadata.ownerReferences?.find((o) => o.uid === foreign.uid)).toMatchObject(foreign);

    // Node 1's last pod leaves: node 2's pods still use the Secret, so it stays with their owners.
    await csi.nodeUnpublish({ volumeId: a.volumeId, targetPath: a.targetPath });
    await eventually(() => expect(ownerUids(secret(h, 'db'))).toEqual([b.uid, c.uid, foreign.uid].sort()));
    expect(dataOf(secret(h, 'db'))).toEqual({ password: 'pw-1' });

    // One of node 2's pods leaves: only it is dropped.
    await node2.csi.nodeUnpublish({ volumeId: b.volumeId, targetPath: b.targetPath });
    await eventually(() => expect(ownerUids(secret(h, 'db'))).toEqual([c.uid, foreign.uid].sort()));

    // Node 2's last pod leaves, but the ReplicaSet reference is not ours: the Secret stays for it.
    await node2.csi.nodeUnpublish({ volumeId: c.volumeId, targetPath: c.targetPath });
    await eventually(() => expect(ownerUids(secret(h, 'db'))).toEqual([foreign.uid]));
    expect(h.agent.secretSync!.pending()).toEqual([]);
  });

  it('deletes a Secret shared between nodes only when the last node no longer has a pod that asks for it', async () => {
    const { h, csi } = await setup(OPAQUE, DB_OBJECTS);
    h.stack.aws.putSecret({ name: 'db-password', region: REGION, string: 'pw-1' });
    const node2 = await startSecondNode(h, 'node-2');
    const a = createPod(h, 'web-a');
    const b = createPod(h, 'web-b', 'node-2');
    await publish(h, node2.csi, b);
    await publish(h, csi, a);
    await eventually(() => expect(ownerUids(secret(h, 'db'))).toEqual([a.uid, b.uid].sort()));

    await node2.csi.nodeUnpublish({ volumeId: b.volumeId, targetPath: b.targetPath });
    await eventually(() => expect(ownerUids(secret(h, 'db'))).toEqual([a.uid]));
    await csi.nodeUnpublish({ volumeId: a.volumeId, targetPath: a.targetPath });
    await eventually(() => expect(secret(h, 'db')).toBeUndefined());
  });

  it('leaves a Secret it does not manage untouched and says so in an Event on the pod', async () => {
    const { h, csi } = await setup(OPAQUE, DB_OBJECTS);
    h.stack.aws.putSecret({ name: 'db-password', region: REGION, string: 'pw-1' });
    h.stack.kube.apply({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'db', namespace: NS }, type: 'Opaque', data: { password: Buffer.from('theirs').toString('base64') } } as KubeObject);
    const a = createPod(h, 'web-a');
    await publish(h, csi, a);
    await eventually(() => {
      const events = h.stack.kube.list('v1', 'Event', NS) as Array<KubeObject & { reason?: string; involvedObject?: { name?: string } }>;
      expect(events.some((e) => e.reason === 'SecretNotManaged' && e.involvedObject?.name === 'web-a')).toBe(true);
    });
    expect(dataOf(secret(h, 'db'))).toEqual({ password: 'theirs' });
    expect(secret(h, 'db')?.metadata.labels?.['secrets-store.csi.k8s.io/managed']).toBeUndefined();
    expect(ownerUids(secret(h, 'db'))).toEqual([]);
    const failure = h.agent.journal!.state.secrets.get(`${NS}/db`)?.lastFailure;
    expect(failure?.reason).toBe('SecretNotManaged');
  });

  it('splits a PEM bundle into tls.crt and tls.key for kubernetes.io/tls', async () => {
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    const keyPem = privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
    const certPem = '-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIUfake\n-----END CERTIFICATE-----\n';
    const tls = [{ secretName: 'tls', type: 'kubernetes.io/tls', data: [{ objectName: 'bundle', key: 'tls.crt' }, { objectName: 'bundle', key: 'tls.key' }] }];
    const { h, csi } = await setup(tls, '- objectName: bundle\n  objectType: secretsmanager\n');
    h.stack.aws.putSecret({ name: 'bundle', region: REGION, string: keyPem + certPem });
    await publish(h, csi, createPod(h, 'web-a'));
    await eventually(() => {
      const s = secret(h, 'tls') as (KubeObject & { type?: string }) | undefined;
      expect(s?.type).toBe('kubernetes.io/tls');
      const data = dataOf(s);
      expect(data['tls.crt']).toBe(certPem);
      expect(data['tls.key']).toMatch(/^-----BEGIN EC PRIVATE KEY-----/);
    });
  });

  it('loses nothing while the API server is down: rotation and owner changes land once it is back', async () => {
    const { h, csi } = await setup(OPAQUE, DB_OBJECTS);
    h.stack.aws.putSecret({ name: 'db-password', region: REGION, string: 'pw-1' });
    const a = createPod(h, 'web-a');
    const b = createPod(h, 'web-b');
    await publish(h, csi, a);
    await publish(h, csi, b);
    await eventually(() => expect(ownerUids(secret(h, 'db'))).toEqual([a.uid, b.uid].sort()));

    h.stack.kube.pause();
    h.stack.aws.putSecret({ name: 'db-password', region: REGION, string: 'pw-outage' });
    const cycle = await h.agent.rotation!.runCycle();
    expect(cycle.rewritten).toHaveLength(2);
    await csi.nodeUnpublish({ volumeId: a.volumeId, targetPath: a.targetPath });
    // Sync keeps failing while paused (and records the failure once).
    await eventually(() => expect(h.agent.journal!.state.secrets.get(`${NS}/db`)?.lastFailure).toBeDefined());
    expect(h.agent.secretSync!.pending()).toHaveLength(1);

    h.stack.kube.resume();
    await eventually(() => {
      expect(dataOf(secret(h, 'db'))).toEqual({ password: 'pw-outage' });
      expect(ownerUids(secret(h, 'db'))).toEqual([b.uid]);
    }, 60_000);
    await eventually(() => expect(h.agent.secretSync!.pending()).toEqual([]));
  });
});
