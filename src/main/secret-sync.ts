/**
 * Secret sync: the consumer of the DesiredSecrets projection. For every Secret whose desired state
 * changed after its last successful sync (checkpointed by seq in the log: SecretSynced.basisSeq),
 * it reads the source mount's files, builds the Secret (type, labels, annotations, managed label,
 * TLS split), writes it with the consuming pods as owners, and appends SecretSynced.
 *
 * Owners are this node's share only (KubeSecretWriter): pods that stop consuming a Secret here are
 * remembered as released until the next write drops them (only those a successful write may have
 * listed: a pod that came and went while writes failed is not), and when no pod here consumes it any more
 * the Secret is released (deleted only if no other owner is left). Released pods are kept in memory:
 * after a crash before that write, the Secret keeps a reference to a pod that is gone, which
 * Kubernetes' garbage collector removes (and deletes the Secret with the last one), as upstream.
 *
 * A Secret released outright (no pod here asks for it) is on record: it stays in the projection as a
 * tombstone until the release succeeds and SecretReleased is appended, so a crash in between only
 * means the next start releases it again.
 *
 * Delivery: at-least-once with idempotent writes. A crash after the write but before the append
 * only means the next start writes the same Secret again (the writer sees "unchanged"). Nothing
 * pending is lost across a restart: pending = projection state, which is replayed from the log.
 * While the API server is down, each Secret is retried with exponential backoff and jitter (its
 * write, or its release once no pod here asks for it).
 *
 * Every 5 minutes each synced Secret is written again from its mount (the writer compares first:
 * one GET when nothing changed), so a Secret someone deleted or edited comes back, as upstream's
 * periodic requeue does.
 *
 * Never takes over a Secret secretlet does not manage: it is left untouched and a Warning Event on
 * each consuming pod says why. Every failure gets an Event on the pod(s) and, once per desired
 * state and reason, a SecretSyncFailed record (so the log does not grow during an outage).
 * A failure no quick retry can fix (an unmanaged Secret in the way, a bad spec or missing file) is
 * still tried again at the resync interval, as upstream keeps requeuing (driver.md §4.3 step 10):
 * the user may fix the cause without touching the SPC or the pod (delete the conflicting Secret).
 */
import type { Logger } from '../adapters/logging/logger.js';
import type { AgentMetrics } from '../adapters/metrics/agent-metrics.js';
import type { OwnerChange, SecretApplyResult } from '../adapters/kubernetes/secret-writer.js';
import { SecretletError, asSecretletError } from '../core/errors.js';
import type { DesiredSecret as DesiredSecretState } from '../core/events/desired-secrets.js';
import { isReleasePending, isSyncPending, liveSecret, secretKey } from '../core/events/desired-secrets.js';
import { pendingSecretSyncs } from '../core/events/projections.js';
import { buildDesiredSecret } from '../core/secrets/desired-secret.js';
import type { DesiredSecret } from '../core/secrets/desired-secret.js';
import type { EventJournal } from './event-journal.js';

/** Where Secrets are written (KubeSecretWriter). */
export interface SecretStore {
  apply(desired: DesiredSecret, owners: OwnerChange): Promise<SecretApplyResult>;
  /** No pod here consumes the Secret any more: drop the released owners, delete it if none is left. */
  release(namespace: string, name: string, released: ReadonlySet<string>): Promise<SecretApplyResult>;
}

export interface PodWarnings {
  warning(target: { kind: 'Pod'; namespace: string; name: string; uid?: string }, reason: string, message: string): Promise<boolean>;
}

export interface SecretSyncOptions {
  journal: EventJournal;
  store: SecretStore;
  events: PodWarnings;
  /** Reads a mount's files (readMountedFiles). */
  readFiles: (targetPath: string) => Promise<Map<string, Uint8Array>>;
  logger: Logger;
  metrics?: AgentMetrics;
  /** @default 200 */
  initialBackoffMs?: number;
  /** @default 10_000 */
  maxBackoffMs?: number;
  /** @default Math.random */
  random?: () => number;
  /**
   * How often every synced Secret is written again from its mount (a no-op when it is as desired),
   * so a Secret someone deleted or edited comes back, as the driver's 5-minute requeue does
   * (driver.md §4.3 step 11). 0 turns it off. @default 300_000
   */
  resyncIntervalMs?: number;
}

interface RetryState {
  attempts: number;
  notBefore: number;
  /** The changedSeq this retry state belongs to; a newer desired state retries at once. */
  changedSeq: number;
  /** The reason of the last failure logged (warn) and recorded for this desired state. */
  recordedReason?: string;
}

/**
 * Failures a quick retry does not fix (unmanaged Secret in the way, bad spec, missing file): they are
 * retried at the resync interval instead of the fast backoff, and a repeat of the same reason is
 * neither logged at warn nor recorded again. With the resync off they wait for the desired state to change.
 */
const PERMANENT_REASONS = new Set(['SecretNotManaged', 'FailedToCreateSecret']);

/**
 * The `changedSeq` of a release's retry state: a release has no desired state, and no real seq
 * (they start at 1) matches it, so a Secret asked for again is written at once, not on the
 * release's backoff.
 */
const RELEASE_SEQ = -1;

export class SecretSync {
  private readonly options: SecretSyncOptions;
  private readonly random: () => number;
  private readonly retries = new Map<string, RetryState>();
  /** Secrets no pod here asks for any more, to release. */
  private readonly removals = new Set<string>();
  /**
   * Per Secret, pods (uids) that stopped consuming it here and that a write may have listed as
   * owners (a subset of `written`): the next write takes them out.
   */
  private readonly released = new Map<string, Set<string>>();
  /**
   * Per Secret, the pods (uids) this agent may have listed in its ownerReferences: those of its last
   * successful write, plus every owner it had when this agent started (a write before a crash may
   * have added them). A pod that came and went while every write failed was never listed, so it is
   * not remembered as released: without this bound a Secret that fails for good (an unmanaged one
   * in the way) would remember one uid per pod a Deployment rolls on this node, for months.
   */
  private readonly written = new Map<string, Set<string>>();
  private wake: (() => void) | undefined;
  private kicked = false;
  private loop: Promise<void> | undefined;
  private stopped = true;
  private unsubscribe: (() => void) | undefined;
  private timer: NodeJS.Timeout | undefined;
  /** When the next resync pass is due (undefined: resync off or not started). */
  private nextResyncAt: number | undefined;

  constructor(options: SecretSyncOptions) {
    this.options = options;
    this.random = options.random ?? Math.random;
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    // What a write before this start (a crash between write and SecretSynced included) may have
    // listed; owners that left before it are Kubernetes' garbage collector's, as the doc says.
    for (const [key, s] of this.options.journal.state.secrets) {
      for (const o of s.owners) setAt(this.written, key).add(o.uid);
      // A release the last run did not get to (its tombstone is still on record): do it now.
      if (isReleasePending(s)) {
        for (const uid of s.releasing ?? []) {
          setAt(this.written, key).add(uid);
          setAt(this.released, key).add(uid);
        }
        this.removals.add(key);
      }
    }
    this.unsubscribe = this.options.journal.subscribe((record, before, after) => {
      if (record.type === 'SecretSynced' || record.type === 'SecretSyncFailed' || record.type === 'SecretReleased') return;
      // Owners that left: dropped by the next write. A Secret no pod here asks for any more is
      // released (ownerReferences GC does the same in a real cluster once the pods are gone; this
      // also covers a pod that merely unmounted).
      for (const [key, s] of before.secrets) {
        const next = after.secrets.get(key);
        if (next === s || isReleasePending(s)) continue;
        // A tombstone is a Secret no pod here asks for, as one gone from the projection.
        const now = liveSecret(next);
        const staying = new Set((now?.owners ?? []).map((o) => o.uid));
        const written = this.written.get(key);
        // Only an owner a write may have listed needs taking out (see `written`).
        for (const o of s.owners) if (!staying.has(o.uid) && written?.has(o.uid) === true) setAt(this.released, key).add(o.uid);
        // Written by this agent (a sync on record, or owners a write may have listed: a write just
        // before a crash, or one before a release that failed and a pod wanted it again): release it.
        const mayHaveWritten = s.synced !== undefined || (written?.size ?? 0) > 0;
        if (now === undefined && mayHaveWritten) this.removals.add(key);
        else if (now === undefined) this.forget(key); // never written: nothing to take back
      }
      for (const [key, s] of after.secrets) {
        if (isReleasePending(s)) continue;
        this.removals.delete(key);
        const back = this.released.get(key);
        if (back !== undefined) for (const o of s.owners) back.delete(o.uid);
      }
      this.kick();
    });
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.unsubscribe?.();
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.wake?.();
    await this.loop;
  }

  kick(): void {
    this.kicked = true;
    this.wake?.();
  }

  /** Secrets whose desired state is not yet written (permanently failed ones included). */
  pending(): DesiredSecretState[] {
    return pendingSecretSyncs(this.options.journal.state);
  }

  private runnable(now: number): DesiredSecretState[] {
    return this.pending().filter((s) => {
      const r = this.retries.get(secretKey(s.namespace, s.secretName));
      if (r === undefined || r.changedSeq !== s.changedSeq) return true;
      return r.notBefore <= now;
    });
  }

  private async run(): Promise<void> {
    const interval = this.options.resyncIntervalMs ?? 300_000;
    // The first resync runs at start, as the driver reconciles every pod status of its node when it
    // starts: a synced Secret deleted or edited while the agent was down comes back now, not in 5 min.
    this.nextResyncAt = interval > 0 ? Date.now() : undefined;
    while (!this.stopped) {
      this.kicked = false;
      const now = Date.now();
      for (const key of [...this.removals]) {
        const r = this.retries.get(key);
        // A failed release waits for its backoff, as a failed write does.
        if (this.removals.has(key) && (r === undefined || r.changedSeq !== RELEASE_SEQ || r.notBefore <= now)) await this.remove(key);
      }
      for (const desired of this.runnable(now)) {
        if (this.stopped) return;
        await this.syncOne(desired);
      }
      if (this.nextResyncAt !== undefined && now >= this.nextResyncAt) {
        await this.resync();
        this.nextResyncAt = Date.now() + interval;
      }
      this.updateLag();
      if (this.kicked) continue;
      await this.sleep(this.nextWakeDelay());
    }
  }

  private nextWakeDelay(): number | undefined {
    let earliest: number | undefined;
    const pendingKeys = new Set(this.pending().map((s) => secretKey(s.namespace, s.secretName)));
    for (const [key, r] of this.retries) {
      if (!pendingKeys.has(key) && !(r.changedSeq === RELEASE_SEQ && this.removals.has(key))) {
        this.retries.delete(key);
        continue;
      }
      // A permanent failure with the resync off waits (Infinity) for its desired state to change.
      if (Number.isFinite(r.notBefore) && (earliest === undefined || r.notBefore < earliest)) earliest = r.notBefore;
    }
    if (this.nextResyncAt !== undefined) earliest = Math.min(earliest ?? Infinity, this.nextResyncAt);
    return earliest === undefined ? undefined : Math.max(0, earliest - Date.now());
  }

  private sleep(ms: number | undefined): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        if (this.timer !== undefined) clearTimeout(this.timer);
        this.timer = undefined;
        this.wake = undefined;
        resolve();
      };
      this.wake = done;
      if (this.kicked || this.stopped) return done();
      if (ms !== undefined) this.timer = setTimeout(done, ms);
    });
  }

  /**
   * Writes every Secret that is synced and not failing again. The writer compares first, so an
   * intact Secret costs one GET; only a deleted or edited one is written (and logged).
   */
  private async resync(): Promise<void> {
    for (const desired of this.options.journal.state.secrets.values()) {
      if (this.stopped) return;
      const key = secretKey(desired.namespace, desired.secretName);
      if (isSyncPending(desired) || isReleasePending(desired) || this.retries.has(key) || this.removals.has(key)) continue;
      await this.syncOne(desired, 'resync');
    }
  }

  private async syncOne(desired: DesiredSecretState, why: 'change' | 'resync' = 'change'): Promise<void> {
    const { journal, store, readFiles, logger } = this.options;
    const key = secretKey(desired.namespace, desired.secretName);
    const mount = journal.state.mounts.get(desired.sourceMountKey);
    if (mount === undefined) return; // the projection moves on with the next record
    const index = mount.secretObjects.findIndex((s) => s.secretName.trim() === desired.secretName);
    try {
      const files = await readFiles(mount.targetPath);
      const secret = buildDesiredSecret({ namespace: desired.namespace, spcName: mount.secretProviderClass, spec: desired.spec, index: Math.max(index, 0), files });
      const released = new Set(this.released.get(key));
      const pods = desired.owners.map((o) => ({ name: o.name, uid: o.uid }));
      const result = await store.apply(secret, { pods, released });
      if (result === 'unmanaged') {
        throw new SecretletError({
          code: 'FAILED_PRECONDITION',
          reason: 'SecretNotManaged',
          field: `spec.secretObjects[${index}].secretName`,
          message: `secret ${desired.namespace}/${desired.secretName} exists and is not managed by secretlet (no ${'secrets-store.csi.k8s.io/managed'}=true label); it was left untouched`,
        });
      }
      this.wrote(key, pods, released);
      if (why === 'resync' && result === 'unchanged') return;
      await journal.record([
        {
          type: 'SecretSynced',
          payload: {
            namespace: desired.namespace,
            secretName: desired.secretName,
            mountKeys: desired.owners.map((o) => o.mountKey),
            dataHash: this.dataHash(secret),
            basisSeq: desired.changedSeq,
          },
        },
      ]);
      this.retries.delete(key);
      logger.info(
        { namespace: desired.namespace, secret: desired.secretName, result, owners: desired.owners.length },
        why === 'resync' ? 'secret restored: it had been deleted or changed' : 'secret synced',
      );
    } catch (e) {
      await this.failed(desired, asSecretletError(e, { code: 'UNAVAILABLE', reason: 'SecretSyncFailed' }));
    }
  }

  /**
   * Schedules the next try of `key` after a failed one at `changedSeq` (a write, or a release with
   * RELEASE_SEQ): exponential backoff with jitter, restarted by a newer desired state; a permanent
   * failure waits for the resync interval.
   */
  private backOff(key: string, changedSeq: number, permanent: boolean): RetryState {
    const { initialBackoffMs = 200, maxBackoffMs = 10_000, resyncIntervalMs = 300_000 } = this.options;
    const previous = this.retries.get(key);
    const attempts = previous !== undefined && previous.changedSeq === changedSeq ? previous.attempts + 1 : 1;
    const ceiling = Math.min(maxBackoffMs, initialBackoffMs * 2 ** (attempts - 1));
    const notBefore = permanent
      ? resyncIntervalMs > 0 ? Date.now() + resyncIntervalMs : Infinity
      : Date.now() + ceiling * (0.5 + this.random() / 2);
    const state: RetryState = { attempts, notBefore, changedSeq };
    this.retries.set(key, state);
    return state;
  }

  private async failed(desired: DesiredSecretState, error: SecretletError): Promise<void> {
    const { journal, events, logger } = this.options;
    const key = secretKey(desired.namespace, desired.secretName);
    const previous = this.retries.get(key);
    const same = previous !== undefined && previous.changedSeq === desired.changedSeq;
    const permanent = PERMANENT_REASONS.has(error.reason);
    const recordedReason = same ? previous.recordedReason : recordedSinceChange(desired);
    const state = this.backOff(key, desired.changedSeq, permanent);
    const { attempts } = state;
    if (recordedReason !== undefined) state.recordedReason = recordedReason;
    const repeat = permanent && recordedReason === error.reason;
    const fields = { namespace: desired.namespace, secret: desired.secretName, code: error.code, reason: error.reason, error: error.message, attempts };
    // A permanent failure found again at each resync would otherwise log the same warning forever.
    if (repeat) logger.debug(fields, 'secret sync still failing');
    else logger.warn(fields, 'secret sync failed');
    if (recordedReason !== error.reason) {
      state.recordedReason = error.reason;
      await journal
        .record([{ type: 'SecretSyncFailed', payload: { namespace: desired.namespace, secretName: desired.secretName, reason: error.reason, message: error.message } }])
        .catch(() => undefined);
    }
    for (const owner of desired.owners) {
      await events.warning({ kind: 'Pod', namespace: desired.namespace, name: owner.name, uid: owner.uid }, error.reason === 'SecretNotManaged' ? 'SecretNotManaged' : 'FailedToCreateSecret', error.message);
    }
  }

  private async remove(key: string): Promise<void> {
    const i = key.indexOf('/');
    const released = new Set(this.released.get(key));
    try {
      const result = await this.options.store.release(key.slice(0, i), key.slice(i + 1), released);
      this.removals.delete(key);
      if (this.retries.get(key)?.changedSeq === RELEASE_SEQ) this.retries.delete(key);
      this.forgetReleased(key, released);
      // Only pods released after this call began may still be listed (the Secret came back meanwhile).
      const left = this.released.get(key);
      if (left === undefined) this.written.delete(key);
      else this.written.set(key, new Set(left));
      this.options.logger.info({ secret: key, result, released: released.size }, 'secret released: no pod on this node asks for it');
      await this.recordReleased(key);
    } catch (e) {
      // Backs off as a failed write does, so an outage or a lasting 403 costs one GET and one line
      // per backoff step, not five a second.
      const { attempts } = this.backOff(key, RELEASE_SEQ, false);
      this.options.logger.warn({ secret: key, error: e instanceof Error ? e.message : String(e), attempts }, 'releasing a secret no pod here asks for failed; will retry');
    }
  }

  /** Takes the tombstone of `key` off the projection once its release is done (and not asked for again). */
  private async recordReleased(key: string): Promise<void> {
    const desired = this.options.journal.state.secrets.get(key);
    if (desired === undefined || !isReleasePending(desired)) return;
    await this.options.journal
      .record([{ type: 'SecretReleased', payload: { namespace: desired.namespace, secretName: desired.secretName } }])
      .catch((e: unknown) => {
        // The tombstone stays: the next start releases again, which the writer answers 'absent' or 'unchanged'.
        this.options.logger.warn({ secret: key, error: e instanceof Error ? e.message : String(e) }, 'recording a secret release failed');
      });
  }

  /**
   * After a successful write of `key` with these pods and `taken` released: the Secret may now list
   * those pods, and the released ones this write did not take out (they left while it ran); the
   * ones among them that no longer consume it here are released, for the next write.
   */
  private wrote(key: string, pods: readonly { uid: string }[], taken: ReadonlySet<string>): void {
    const listed = new Set(pods.map((p) => p.uid));
    for (const uid of this.released.get(key) ?? []) if (!taken.has(uid)) listed.add(uid);
    const desired = liveSecret(this.options.journal.state.secrets.get(key));
    const consuming = new Set((desired?.owners ?? []).map((o) => o.uid));
    const released = new Set([...listed].filter((uid) => !consuming.has(uid)));
    this.written.set(key, listed);
    if (released.size > 0) this.released.set(key, released);
    else this.released.delete(key);
    // No pod here asks for it any more (its last one left while this write ran): release it, or
    // it would keep owners, and this agent state, that nothing takes back. A new removal is tried
    // on the next pass (a failed one waits for its backoff in `retries`).
    if (desired === undefined && !this.removals.has(key)) {
      this.removals.add(key);
      this.kick();
    }
  }

  /** Drops what is remembered of a Secret no write of this agent can have listed owners in. */
  private forget(key: string): void {
    this.released.delete(key);
    this.written.delete(key);
  }



  /** Drops the uids a successful write took out; ones released meanwhile stay for the next write. */
  private forgetReleased(key: string, written: ReadonlySet<string>): void {
    const set = this.released.get(key);
    if (set === undefined) return;
    for (const uid of written) set.delete(uid);
    if (set.size === 0) this.released.delete(key);
  }

  /** Keyed hash over the Secret's data (keys sorted, length-prefixed) — content never leaves memory. */
  private dataHash(secret: DesiredSecret): string {
    const parts: Uint8Array[] = [];
    const enc = new TextEncoder();
    for (const k of Object.keys(secret.data).sort()) {
      const v = secret.data[k]!;
      parts.push(enc.encode(`${k}\n${v.length}\n`), v);
    }
    return this.options.journal.hasher.hash(Buffer.concat(parts));
  }

  private updateLag(): void {
    const { metrics, journal } = this.options;
    if (metrics === undefined) return;
    const oldest = this.pending().reduce((min, s) => Math.min(min, s.changedSeq), Infinity);
    metrics.secretSyncLag.set(oldest === Infinity ? 0 : journal.state.lastSeq - oldest + 1);
  }
}

/**
 * The reason already recorded for this desired state, from the log (a SecretSyncFailed after its last
 * change): the in-memory retry state of a synced Secret does not outlive the resync pass that failed,
 * and none survives a restart, so without this every resync would record the same failure again.
 */
function recordedSinceChange(desired: DesiredSecretState): string | undefined {
  const failure = desired.lastFailure;
  return failure !== undefined && failure.seq > desired.changedSeq ? failure.reason : undefined;
}

/** The set stored at `key`, created empty when there is none. */
function setAt(map: Map<string, Set<string>>, key: string): Set<string> {
  let set = map.get(key);
  if (set === undefined) map.set(key, (set = new Set()));
  return set;
}
