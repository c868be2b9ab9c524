import { describe, expect, it, vi } from 'vitest';
import { mapAwsError } from '../adapters/aws/error-mapping.js';
import { InMemoryEventLog } from '../adapters/eventlog/in-memory-event-log.js';
import { AgentMetrics } from '../adapters/metrics/agent-metrics.js';
import { createLogger } from '../adapters/logging/logger.js';
import type { SecretletError } from '../core/errors.js';
import type { AwsIdentity, FetchedObject, ObjectRequest, RenderedFile } from '../core/model.js';
import type { PayloadWriter } from '../core/ports/payload-writer.js';
import type { SecretSource } from '../core/ports/secret-source.js';
import { err, ok } from '../core/result.js';
import type { Result } from '../core/result.js';
import { EventJournal } from './event-journal.js';
import { LiveMounts } from './rotation-live-mounts.js';
import { PublishingTargets } from './publishing-targets.js';
import { RotationReconciler } from './rotation-reconciler.js';
import type { RotationCycleReport, RotationReconcilerOptions } from './rotation-reconciler.js';
import { descriptor, mountPlan } from '../../test/support/descriptors.js';

const enc = new TextEncoder();
const logger = createLogger({ level: 'silent' });
const hasher = { hash: (b: Uint8Array) => Buffer.from(b).toString('hex').slice(0, 32) };

const plan = mountPlan([descriptor({ index: 0, objectName: 'a' }), descriptor({ index: 1, objectName: 'b', objectVersion: 'pinned' })]);
const identity: AwsIdentity = { mode: 'irsa', namespace: 'ns', serviceAccount: 'sa', podUid: 'u1', token: 't', preferredAddressType: 'auto' };

/** A promise and the function that settles it: what a test holds to open a gate. */
function gate(): { opened: Promise<void>; open: () => void } {
  let open: () => void = () => undefined;
  const opened = new Promise<void>((resolve) => (open = resolve));
  return { opened, open };
}

class ScriptedSource implements SecretSource {
  readonly calls: ObjectRequest[][] = [];
  next: (r: ObjectRequest) => Result<FetchedObject, SecretletError> = () => ok({ bytes: enc.encode('A1'), version: 'v1' });
  /** When set, fetches wait for it after announcing themselves through `fetching`. */
  hold: Promise<void> | undefined;
  private readonly started = gate();
  /** Settles when the first fetch is in flight. */
  readonly fetching = this.started.opened;
  /** Runs as each fetch answers (a test clock advances here). */
  onAnswer: (() => void) | undefined;
  async fetch(_identity: AwsIdentity, _region: string, requests: readonly ObjectRequest[]): Promise<Array<Result<FetchedObject, SecretletError>>> {
    this.calls.push([...requests]);
    this.started.open();
    if (this.hold !== undefined) await this.hold;
    this.onAnswer?.();
    return requests.map((r) => this.next(r));
  }
}

class RecordingWriter implements PayloadWriter {
  readonly writes: RenderedFile[][] = [];
  /** Runs as each write ends (a test clock advances here). */
  onWrite: (() => void) | undefined;
  /** The target stamp each write reports it left (as the real writers do, under the target's lock). */
  stamp: string | undefined;
  write(_dir: string, files: readonly RenderedFile[]): Promise<{ changed: boolean; stamp?: string }> {
    this.writes.push([...files]);
    this.onWrite?.();
    return Promise.resolve(this.stamp === undefined ? { changed: true } : { changed: true, stamp: this.stamp });
  }
}

/** Sum of a counter's samples, or of a histogram's `_sum` / `_count`, as the registry reports them. */
async function metricValue(metrics: AgentMetrics, name: string, sample = name): Promise<number> {
  const metric = metrics.registry.getSingleMetric(name);
  if (metric === undefined) throw new Error(`no metric ${name}`);
  const { values } = await metric.get();
  return values.filter((v) => ((v as { metricName?: string }).metricName ?? name) === sample).reduce((sum, v) => sum + v.value, 0);
}

/** Starts a cycle and holds it inside its AWS fetch, so a test can change the world meanwhile. */
async function cycleHeldAtFetch(reconciler: RotationReconciler, source: ScriptedSource): Promise<{ cycle: Promise<RotationCycleReport>; release: () => void }> {
  const fetchDone = gate();
  source.hold = fetchDone.opened;
  const cycle = reconciler.runCycle();
  await source.fetching;
  return { cycle, release: () => fetchDone.open() };
}

async function setup(random = () => 0.999, extra: Partial<RotationReconcilerOptions> = {}): Promise<{ journal: EventJournal; live: LiveMounts; source: ScriptedSource; writer: RecordingWriter; reconciler: RotationReconciler }> {
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
  const reconciler = new RotationReconciler({ journal, live, source, logger, intervalMs: 1000, random, targetExists: () => Promise.resolve(true), ...extra });
  return { journal, live, source, writer, reconciler };
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

  // Backoff after n throttled cycles in a row: interval (1 s) × min(2^n, 8) × (0.5 + random/2).
  it.each([
    { random: 0, delays: [1000, 2000, 4000, 4000] },
    { random: 0.999, delays: [1999, 3998, 7996, 7996] },
  ])('keeps the old content when throttled, records the failure once, and backs off with jitter (random $random)', async ({ random, delays }) => {
    const { journal, source, writer, reconciler } = await setup(() => random);
    // Throttling exactly as the AWS adapter reports it (UNAVAILABLE, reason Throttled).
    source.next = () => err(mapAwsError({ name: 'ThrottlingException', $metadata: { httpStatusCode: 400 }, message: 'Rate exceeded' }, { action: 'BatchGetSecretValue', region: 'us-east-1' }));
    expect(reconciler.nextDelayMs()).toBe(1000);
    const first = await reconciler.runCycle();
    expect(first.throttled).toBe(true);
    expect(first.failed).toEqual([{ mountKey: 'u1/vol', reason: 'Throttled' }]);
    const seen = [reconciler.nextDelayMs()];
    for (let cycle = 2; cycle <= delays.length; cycle++) {
      expect((await reconciler.runCycle()).throttled).toBe(true);
      seen.push(reconciler.nextDelayMs());
    }
    // Doubles per throttled cycle up to 8 intervals, scaled by the jitter.
    expect(seen).toEqual(delays);
    expect(writer.writes).toEqual([]);
    const failures = journal.state.mounts.get('u1/vol')?.lastFailure;
    expect(failures?.reason).toBe('Throttled');
    expect(journal.state.lastSeq).toBe(2); // one MountFailed for all the throttled cycles
    source.next = () => ok({ bytes: enc.encode('A1'), version: 'v1' });
    expect((await reconciler.runCycle()).throttled).toBe(false);
    expect(reconciler.nextDelayMs()).toBe(1000);
  });

  it('posts a FailedRotation Event once per reason while a failure lasts, again every 10 minutes, and at once after a recovery', async () => {
    let t = 0;
    const events: string[] = [];
    const { source, reconciler } = await setup(undefined, { stopwatch: () => t, warn: (_pod, reason) => (events.push(reason), Promise.resolve()) });
    const denied = () => err(mapAwsError({ name: 'AccessDeniedException', $metadata: { httpStatusCode: 400 }, message: 'not authorized' }, { action: 'BatchGetSecretValue', region: 'us-east-1' }));
    source.next = denied;
    for (let cycle = 0; cycle < 5; cycle++, t += 120_000) await reconciler.runCycle();
    expect(events).toHaveLength(1); // 5 cycles over 8 minutes
    t = 600_000;
    await reconciler.runCycle();
    expect(events).toHaveLength(2); // 10 minutes after the first
    source.next = () => ok({ bytes: enc.encode('A1'), version: 'v1' });
    await reconciler.runCycle();
    source.next = denied;
    t += 1;
    await reconciler.runCycle();
    expect(events).toEqual(['FailedRotation', 'FailedRotation', 'FailedRotation']);
  });

  it('starts cycles an interval apart, start to start, whatever a cycle takes', async () => {
    vi.useFakeTimers();
    try {
      let t = 0;
      const { source, reconciler } = await setup(undefined, { stopwatch: () => t });
      source.onAnswer = () => (t += 600); // every cycle's read takes 600 ms of the 1 s interval
      reconciler.start();
      await vi.advanceTimersByTimeAsync(1000);
      expect(source.calls).toHaveLength(1);
      await vi.advanceTimersByTimeAsync(400);
      expect(source.calls).toHaveLength(2);
      await reconciler.stop();
    } finally {
      vi.useRealTimers();
    }
  });

  it('leaves a target alone while a door call is publishing it (its files may already be a newer plan\'s)', async () => {
    const publishing = new PublishingTargets();
    const { journal, source, writer, reconciler } = await setup(undefined, { publishing });
    source.next = () => ok({ bytes: enc.encode('A2'), version: 'v2' });
    const { cycle, release } = await cycleHeldAtFetch(reconciler, source);
    // kubelet's republish of this target has written its files and not yet set the live entry.
    let endPublish!: () => void;
    const publish = publishing.during('/t', () => new Promise<void>((resolve) => (endPublish = resolve)));
    release();
    const report = await cycle;
    expect(writer.writes).toEqual([]);
    expect(report).toMatchObject({ rewritten: [], superseded: ['u1/vol'] });
    expect(journal.state.lastSeq).toBe(1);
    endPublish();
    await publish;
    // Once the call is over, the next cycle rotates the target as usual.
    expect((await reconciler.runCycle()).rewritten).toEqual(['u1/vol']);
    expect(writer.writes).toHaveLength(1);
  });

  it('does not write over a republish that replaced the mount while the cycle fetched', async () => {
    const { journal, live, source, writer, reconciler } = await setup();
    source.next = () => ok({ bytes: enc.encode('A2'), version: 'v2' });
    const { cycle, release } = await cycleHeldAtFetch(reconciler, source);
    // kubelet republished meanwhile (SPC edited: object b now comes from another secret) and wrote that.
    const before = live.get('u1/vol')!;
    const edited = mountPlan([descriptor({ index: 0, objectName: 'a' }), descriptor({ index: 1, objectName: 'c' })]);
    live.set({ ...before, plan: edited, values: new Map([[0, { bytes: enc.encode('A3'), version: 'v3' }], [1, { bytes: enc.encode('C'), version: 'c1' }]]), versions: [{ id: 'a', version: 'v3' }, { id: 'c', version: 'c1' }] });
    release();
    const report = await cycle;
    expect(writer.writes).toEqual([]);
    expect(report).toMatchObject({ rewritten: [], superseded: ['u1/vol'], failed: [] });
    expect(journal.state.lastSeq).toBe(1); // no MountUpdated mixing the new plan with the old files
    expect(live.get('u1/vol')?.versions).toEqual([{ id: 'a', version: 'v3' }, { id: 'c', version: 'c1' }]);
  });

  it('does not write over a door write that landed while the cycle fetched, before the door set its entry', async () => {
    let stamp = 'dev:ino:1:1';
    const { journal, source, writer, reconciler } = await setup(undefined, { targetStamp: () => stamp });
    source.next = () => ok({ bytes: enc.encode('A2'), version: 'v2' });
    const { cycle, release } = await cycleHeldAtFetch(reconciler, source);
    stamp = 'dev:ino:2:2'; // the door swapped ..data; it sets the live entry only after its pod status and log record
    release();
    const report = await cycle;
    expect(writer.writes).toEqual([]);
    expect(report).toMatchObject({ rewritten: [], superseded: ['u1/vol'] });
    expect(journal.state.lastSeq).toBe(1);
  });

  it('records the stamp its own write left, not what the directory shows once the write returned', async () => {
    let stamp = 'dev:ino:1:1';
    const { live, source, writer, reconciler } = await setup(undefined, { targetStamp: () => stamp, clock: { now: () => 1_000 } });
    source.next = () => ok({ bytes: enc.encode('A2'), version: 'v2' });
    writer.stamp = 'dev:ino:2:2';
    writer.onWrite = () => (stamp = 'dev:ino:3:3'); // a door write right after ours
    expect((await reconciler.runCycle()).rewritten).toEqual(['u1/vol']);
    expect(live.get('u1/vol')?.targetStamp).toBe('dev:ino:2:2');
  });

  it("never writes into a provider-door target that is no longer the directory the door wrote (the driver's tmpfs unmounted)", async () => {
    let stamp = 'tmpfs-dev:1:1:1';
    const { live, source, writer, reconciler } = await setup(undefined, { targetStamp: () => stamp });
    live.set({ ...live.get('u1/vol')!, door: 'provider', targetStamp: 'tmpfs-dev:1:1:1' });
    source.next = () => ok({ bytes: enc.encode('A2'), version: 'v2' });
    stamp = 'disk-dev:77:5:5'; // unmounted: the node's disk shows through until the driver's rmdir
    const report = await reconciler.runCycle();
    expect(writer.writes).toEqual([]);
    expect(report.rewritten).toEqual([]);
    // Still the same directory, whatever changed inside it: the rewrite goes ahead.
    stamp = 'tmpfs-dev:1:9:9';
    expect((await reconciler.runCycle()).rewritten).toEqual(['u1/vol']);
    expect(writer.writes).toHaveLength(1);
  });

  it('with rotation off, stop() waits for a sweep that is running, so it never records into a closed log', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    try {
      const journal = new EventJournal({ log: new InMemoryEventLog(), hasher, logger, compactEvery: 0 });
      await journal.record([
        { type: 'MountPublished', payload: { mountKey: 'u9/v', door: 'provider', pod: { namespace: 'ns', name: 'p9', uid: 'u9' }, serviceAccount: 'sa', secretProviderClass: '', authMode: 'irsa', regions: ['us-east-1'], targetPath: '/t9', objects: [], secretObjects: [] } },
      ]);
      let answer!: (exists: boolean) => void;
      const asked = new Promise<boolean>((resolve) => (answer = resolve));
      const reconciler = new RotationReconciler({ journal, live: new LiveMounts(), source: new ScriptedSource(), logger, intervalMs: 0, sweepIntervalMs: 1000, targetExists: () => asked });
      reconciler.start();
      await vi.advanceTimersByTimeAsync(1000); // the sweep runs, waiting on the target check
      let stopped = false;
      const stopping = reconciler.stop().then(() => (stopped = true));
      await vi.advanceTimersByTimeAsync(0);
      expect(stopped).toBe(false);
      answer(false);
      await stopping;
      expect(journal.state.mounts.size).toBe(0); // recorded before stop() returned
    } finally {
      vi.useRealTimers();
    }
  });

  it('still rewrites a mount whose token alone was handed over while the cycle fetched', async () => {
    const { journal, live, source, writer, reconciler } = await setup();
    source.next = () => ok({ bytes: enc.encode('A2'), version: 'v2' });
    const { cycle, release } = await cycleHeldAtFetch(reconciler, source);
    // A republish answered from memory: same plan and values, fresher token.
    live.handOver('u1/vol', { ...identity, token: 't2' });
    release();
    const report = await cycle;
    expect(report).toMatchObject({ rewritten: ['u1/vol'], superseded: [] });
    expect(writer.writes).toHaveLength(1);
    expect(journal.state.mounts.get('u1/vol')?.objects.map((o) => o.version)).toEqual(['v2', 'pinned']);
    expect(live.get('u1/vol')?.identity.token).toBe('t2');
  });

  it('counts every mount it reconciled, unchanged or rewritten, timed from its fetch group to its verification or write', async () => {
    let now = 0;
    const metrics = new AgentMetrics({ defaultMetrics: false });
    // Ten seconds pass before any fetch (minting tokens for restored mounts): not the mount's time.
    const restored = { rejoin: () => ((now += 10_000), Promise.resolve({ rejoined: [], failed: [] })) };
    const { source, writer, reconciler } = await setup(undefined, { metrics, stopwatch: () => now, restored });
    source.onAnswer = () => (now += 300);
    writer.onWrite = () => (now += 200);

    await reconciler.runCycle(); // unchanged: verified
    expect(await metricValue(metrics, 'rotation_reconcile_total')).toBe(1);
    expect(await metricValue(metrics, 'rotation_reconcile_duration_sec', 'rotation_reconcile_duration_sec_sum')).toBeCloseTo(0.3);

    source.next = () => ok({ bytes: enc.encode('A2'), version: 'v2' });
    await reconciler.runCycle(); // rewritten
    expect(await metricValue(metrics, 'rotation_reconcile_total')).toBe(2);
    expect(await metricValue(metrics, 'rotation_reconcile_duration_sec', 'rotation_reconcile_duration_sec_count')).toBe(2);
    expect(await metricValue(metrics, 'rotation_reconcile_duration_sec', 'rotation_reconcile_duration_sec_sum')).toBeCloseTo(0.3 + 0.5);

    source.next = () => err(mapAwsError({ name: 'ThrottlingException', $metadata: { httpStatusCode: 400 } }, { action: 'BatchGetSecretValue', region: 'us-east-1' }));
    await reconciler.runCycle(); // failed: an error, not a reconcile
    expect(await metricValue(metrics, 'rotation_reconcile_total')).toBe(2);
    expect(await metricValue(metrics, 'rotation_reconcile_error_total')).toBe(1);
    const errors = await metrics.registry.getSingleMetric('rotation_reconcile_error_total')!.get();
    // The driver's error type on its series (dashboards keep working), secretlet's reason on its own.
    expect(errors.values.map((v) => v.labels['error_type'])).toEqual(['FailedToRotate']);
    const reasons = await metrics.registry.getSingleMetric('secretlet_rotation_error_reasons_total')!.get();
    expect(reasons.values.map((v) => [v.labels['reason'], v.value])).toEqual([['Throttled', 1]]);
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

  it('forgets a kubelet-door mount whose target is gone (a publish that outlived its unpublish), unless a publish of it is in flight', async () => {
    const journal = new EventJournal({ log: new InMemoryEventLog(), hasher, logger, compactEvery: 0 });
    const published = (n: number) => ({
      type: 'MountPublished' as const,
      payload: { mountKey: `u${n}/v`, door: 'csi' as const, pod: { namespace: 'ns', name: `p${n}`, uid: `u${n}` }, serviceAccount: 'sa', secretProviderClass: 'spc', authMode: 'irsa' as const, regions: ['us-east-1'], targetPath: `/gone${n}`, objects: [], secretObjects: [] },
    });
    await journal.record([published(1), published(2)]);
    const publishing = new PublishingTargets();
    let finish = (): void => undefined;
    const inFlight = publishing.during('/gone2', () => new Promise<void>((resolve) => (finish = resolve)));
    const reconciler = new RotationReconciler({ journal, live: new LiveMounts(), source: new ScriptedSource(), logger, intervalMs: 0, targetExists: () => Promise.resolve(false), publishing });
    expect((await reconciler.runCycle()).unpublished).toEqual(['u1/v']);
    expect([...journal.state.mounts.keys()]).toEqual(['u2/v']);
    finish();
    await inFlight;
    expect((await reconciler.runCycle()).unpublished).toEqual(['u2/v']);
    expect(journal.state.mounts.size).toBe(0);
  });

  it('with rotation off, still forgets provider-door mounts whose directory is gone, on its sweep timer', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    try {
      const journal = new EventJournal({ log: new InMemoryEventLog(), hasher, logger, compactEvery: 0 });
      const published = (n: number) => ({
        type: 'MountPublished' as const,
        payload: { mountKey: `u${n}/v`, door: 'provider' as const, pod: { namespace: 'ns', name: `p${n}`, uid: `u${n}` }, serviceAccount: 'sa', secretProviderClass: '', authMode: 'irsa' as const, regions: ['us-east-1'], targetPath: `/t${n}`, objects: [], secretObjects: [] },
      });
      await journal.record([published(1), published(2)]);
      const gone = new Set(['/t1']);
      const source = new ScriptedSource();
      const reconciler = new RotationReconciler({ journal, live: new LiveMounts(), source, logger, intervalMs: 0, sweepIntervalMs: 1000, targetExists: (p) => Promise.resolve(!gone.has(p)) });
      reconciler.start();
      await vi.advanceTimersByTimeAsync(999);
      expect(journal.state.mounts.size).toBe(2);
      await vi.advanceTimersByTimeAsync(1);
      expect([...journal.state.mounts.keys()]).toEqual(['u2/v']);
      gone.add('/t2');
      await vi.advanceTimersByTimeAsync(1000);
      expect(journal.state.mounts.size).toBe(0);
      expect(source.calls).toHaveLength(0); // a sweep, not a rotation
      await reconciler.stop();
    } finally {
      vi.useRealTimers();
    }
  });
});
