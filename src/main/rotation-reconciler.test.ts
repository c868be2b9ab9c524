import { describe, expect, it } from 'vitest';
import { InMemoryEventLog } from '../adapters/eventlog/in-memory-event-log.js';
import { createLogger } from '../adapters/logging/logger.js';
import { SecretletError } from '../core/errors.js';
import type { AwsIdentity, FetchedObject, ObjectRequest, RenderedFile } from '../core/model.js';
import type { PayloadWriter } from '../core/ports/payload-writer.js';
import type { SecretSource } from '../core/ports/secret-source.js';
import { err, ok } from '../core/result.js';
import type { Result } from '../core/result.js';
import { EventJournal } from './event-journal.js';
import { LiveMounts } from './rotation-live-mounts.js';
import { RotationReconciler } from './rotation-reconciler.js';
import { descriptor, mountPlan } from '../../test/support/descriptors.js';

const enc = new TextEncoder();
const logger = createLogger({ level: 'silent' });
const hasher = { hash: (b: Uint8Array) => Buffer.from(b).toString('hex').slice(0, 32) };

const plan = mountPlan([descriptor({ index: 0, objectName: 'a' }), descriptor({ index: 1, objectName: 'b', objectVersion: 'pinned' })]);
const identity: AwsIdentity = { mode: 'irsa', namespace: 'ns', serviceAccount: 'sa', podUid: 'u1', token: 't', preferredAddressType: 'auto' };

class ScriptedSource implements SecretSource {
  readonly calls: ObjectRequest[][] = [];
  next: (r: ObjectRequest) => Result<FetchedObject, SecretletError> = () => ok({ bytes: enc.encode('A1'), version: 'v1' });
  fetch(_identity: AwsIdentity, _region: string, requests: readonly ObjectRequest[]): Promise<Array<Result<FetchedObject, SecretletError>>> {
    this.calls.push([...requests]);
    return Promise.resolve(requests.map((r) => this.next(r)));
  }
}

class RecordingWriter implements PayloadWriter {
  readonly writes: RenderedFile[][] = [];
  write(_dir: string, files: readonly RenderedFile[]): Promise<{ changed: boolean }> {
    this.writes.push([...files]);
    return Promise.resolve({ changed: true });
  }
}

async function setup(random = () => 0.999): Promise<{ journal: EventJournal; source: ScriptedSource; writer: RecordingWriter; reconciler: RotationReconciler }> {
  const journal = new EventJournal({ log: new InMemoryEventLog(), hasher, logger, compactEvery: 0 });
  const files: RenderedFile[] = [
    { path: 'a', mode: 0o644, contents: enc.encode('A1') },
    { path: 'b', mode: 0o644, contents: enc.encode('B') },
  ];
  await journal.record([
    {
      type: 'MountPublished',
      payload: {
        mountKey: 'u1/vol',
        door: 'csi',
        pod: { namespace: 'ns', name: 'p', uid: 'u1' },
        serviceAccount: 'sa',
        secretProviderClass: 'spc',
        authMode: 'irsa',
        regions: ['us-east-1'],
        targetPath: '/t',
        objects: [
          { id: 'a', objectName: 'a', objectType: 'secretsmanager', version: 'v1', pinned: false, hash: hasher.hash(files[0]!.contents) },
          { id: 'b', objectName: 'b', objectType: 'secretsmanager', version: 'pinned', pinned: true, hash: hasher.hash(files[1]!.contents) },
        ],
        secretObjects: [],
      },
    },
  ]);
  const live = new LiveMounts();
  const writer = new RecordingWriter();
  live.set({
    mountKey: 'u1/vol',
    door: 'csi',
    plan,
    identity,
    targetPath: '/t',
    writer,
    values: new Map([
      [0, { bytes: files[0]!.contents, version: 'v1' }],
      [1, { bytes: files[1]!.contents, version: 'pinned' }],
    ]),
    versions: [
      { id: 'a', version: 'v1' },
      { id: 'b', version: 'pinned' },
    ],
  });
  const source = new ScriptedSource();
  const reconciler = new RotationReconciler({ journal, live, source, logger, intervalMs: 1000, random, targetExists: () => Promise.resolve(true) });
  return { journal, source, writer, reconciler };
}

describe('RotationReconciler', () => {
  it('leaves an unchanged mount alone and never asks for the pinned object', async () => {
    const { journal, source, writer, reconciler } = await setup();
    const report = await reconciler.runCycle();
    expect(report).toMatchObject({ mounts: 1, fetchCalls: 1, rewritten: [], failed: [] });
    expect(source.calls).toEqual([[{ type: 'secretsmanager', secretId: 'a' }]]);
    expect(writer.writes).toEqual([]);
    expect(journal.state.lastSeq).toBe(1);
  });

  it('rewrites the whole payload once a version moved, then records MountUpdated', async () => {
    const { journal, source, writer, reconciler } = await setup();
    source.next = () => ok({ bytes: enc.encode('A2'), version: 'v2' });
    const report = await reconciler.runCycle();
    expect(report.rewritten).toEqual(['u1/vol']);
    expect(writer.writes[0]?.map((f) => [f.path, new TextDecoder().decode(f.contents)])).toEqual([
      ['a', 'A2'],
      ['b', 'B'],
    ]);
    const entry = journal.state.mounts.get('u1/vol');
    expect(entry?.objects.map((o) => o.version)).toEqual(['v2', 'pinned']);
    expect(entry?.changedSeq).toBe(2);
    // Values in memory moved too: the next cycle sees nothing new.
    expect((await reconciler.runCycle()).rewritten).toEqual([]);
  });

  it('keeps the old content when throttled, records the failure once, and backs off with jitter', async () => {
    const { journal, source, writer, reconciler } = await setup(() => 0.999);
    source.next = () => err(new SecretletError({ code: 'RESOURCE_EXHAUSTED', reason: 'ThrottlingException', message: 'Rate exceeded' }));
    expect(reconciler.nextDelayMs()).toBe(1000);
    const first = await reconciler.runCycle();
    expect(first.throttled).toBe(true);
    expect(first.failed).toEqual([{ mountKey: 'u1/vol', reason: 'ThrottlingException' }]);
    expect(reconciler.nextDelayMs()).toBeGreaterThan(1900);
    await reconciler.runCycle();
    expect(reconciler.nextDelayMs()).toBeGreaterThan(3900);
    expect(writer.writes).toEqual([]);
    const failures = journal.state.mounts.get('u1/vol')?.lastFailure;
    expect(failures?.reason).toBe('ThrottlingException');
    expect(journal.state.lastSeq).toBe(2); // one MountFailed for two throttled cycles
    source.next = () => ok({ bytes: enc.encode('A1'), version: 'v1' });
    await reconciler.runCycle();
    expect(reconciler.nextDelayMs()).toBe(1000);
  });

  it('records MountUnpublished for a provider-door mount whose directory the driver removed', async () => {
    const journal = new EventJournal({ log: new InMemoryEventLog(), hasher, logger, compactEvery: 0 });
    await journal.record([
      {
        type: 'MountPublished',
        payload: { mountKey: 'u2/v', door: 'provider', pod: { namespace: 'ns', name: 'p2', uid: 'u2' }, serviceAccount: 'sa', secretProviderClass: '', authMode: 'irsa', regions: ['us-east-1'], targetPath: '/gone', objects: [], secretObjects: [] },
      },
    ]);
    const reconciler = new RotationReconciler({ journal, live: new LiveMounts(), source: new ScriptedSource(), logger, intervalMs: 0, targetExists: () => Promise.resolve(false) });
    expect((await reconciler.runCycle()).unpublished).toEqual(['u2/v']);
    expect(journal.state.mounts.size).toBe(0);
  });
});
