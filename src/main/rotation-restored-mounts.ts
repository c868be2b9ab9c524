/**
 * The `--mint-tokens` opt-in: brings mounts replayed from the event log back into rotation without
 * waiting for kubelet's next republish. For a registry entry with no runtime in memory it mints a
 * pod-bound token (TokenRequest), re-plans the mount from the SecretProviderClass recorded in the
 * log, reads the values the pod currently sees from its files, and fills LiveMounts as a republish
 * would. Minted tokens are re-minted before they expire for as long as kubelet has not handed over
 * one of its own (a republish replaces the runtime and takes precedence).
 *
 * Only kubelet-door mounts can rejoin this way: provider-door mounts record no SPC name (the
 * upstream driver resolves the SPC), so they keep waiting for the driver's next Mount call.
 * A mount whose SPC changed since it was mounted (other files or objects, a moved version pin, other
 * regions) also keeps waiting: the republish applies the new SPC, rotation must not half-apply it.
 *
 * Tokens stay in memory; the log lines name the mount and the reason, never the token.
 */
import type { Logger } from '../adapters/logging/logger.js';
import type { ServiceAccountTokenMinter } from '../adapters/kubernetes/token-minter.js';
import { SecretletError, asSecretletError } from '../core/errors.js';
import type { MountEntry } from '../core/events/mount-registry.js';
import type { LoggedObject } from '../core/events/events.js';
import type { AudienceToken, FetchedObject, ObjectDescriptor } from '../core/model.js';
import { isPinned } from '../core/mount/object-requests.js';
import type { PayloadWriter } from '../core/ports/payload-writer.js';
import type { SpcCatalog } from '../core/ports/spc-catalog.js';
import { ATTR_POD_NAME, ATTR_POD_NAMESPACE, ATTR_POD_UID, ATTR_SERVICE_ACCOUNT_NAME, ATTR_TOKENS } from '../core/spc/attributes.js';
import { audienceFor } from '../core/spc/tokens.js';
import { prepareMount } from '../core/usecases/mount-pipeline.js';
import type { LiveMounts } from './rotation-live-mounts.js';

export interface RestoredMountsOptions {
  live: LiveMounts;
  minter: ServiceAccountTokenMinter;
  catalog: Pick<SpcCatalog, 'get'>;
  /** The CSI door's writer (the one that created the mounts). */
  kubeletWriter: PayloadWriter;
  /** Top-level files of a mount by name (the kubelet-style atomic directory). */
  readFiles: (targetPath: string) => Promise<Map<string, Uint8Array>>;
  logger: Logger;
  /** Re-mint a minted token this long before it expires. @default 600_000 */
  refreshBeforeMs?: number;
  /** @default Date.now */
  now?: () => number;
}

/** What one pass did, for the cycle report. */
export interface RejoinReport {
  /** Mounts that got a minted token this pass (first time or refresh). */
  rejoined: string[];
  failed: Array<{ mountKey: string; reason: string }>;
}

interface MintedRuntime {
  /** LiveMounts stamp of the runtime we set; a different stamp means kubelet handed over a token since. */
  tokenSeenAt: number;
  expiresAtMs: number;
}

const CSI_PERMISSION = '420';

/**
 * Whether the re-planned objects are the ones the mount was made with, as far as the log can tell:
 * the same files in the same order, each from the same object (name, type), pinned the same way and,
 * when pinned, to the version its file shows. The pin matters most: a pinned object is never
 * fetched again, its bytes come from the old file, so a rejoin under a moved pin would keep the old
 * value for good while the plan claimed the new one. A label cannot be compared (the log keeps the
 * version it resolved to, not the label), and need not be: labelled objects are asked for by their
 * label every cycle, so the first cycle applies a new label in full.
 */
function sameObjects(planned: readonly ObjectDescriptor[], recorded: readonly LoggedObject[]): boolean {
  return (
    planned.length === recorded.length &&
    planned.every((d, i) => {
      const r = recorded[i];
      if (r === undefined || d.fileName !== r.id || d.objectName !== r.objectName || d.objectType !== r.objectType) return false;
      // A failover entry's pin equals the primary's (validate-objects.ts), so one comparison covers both regions.
      return isPinned(d) === r.pinned && (!r.pinned || r.version === d.objectVersion);
    })
  );
}

export class RestoredMounts {
  private readonly options: RestoredMountsOptions;
  private readonly now: () => number;
  private readonly minted = new Map<string, MintedRuntime>();
  /** Set on the first 403: without RBAC every attempt would fail, so stop asking and say so once. */
  private forbidden = false;
  /**
   * Mounts whose rejoin failed for a reason that asking again cannot change (their pod gone or
   * re-created, their files or SPC changed): left to kubelet's republish or unpublish, which ends
   * the entry. Without this each cost a TokenRequest and a warning every cycle.
   */
  private readonly givenUp = new Set<string>();

  constructor(options: RestoredMountsOptions) {
    this.options = options;
    this.now = options.now ?? Date.now;
  }

  /** Gives every kubelet-door entry without a runtime (or with a minted token about to expire) a fresh one. */
  async rejoin(entries: Iterable<MountEntry>): Promise<RejoinReport> {
    const report: RejoinReport = { rejoined: [], failed: [] };
    if (this.forbidden) return report;
    const all = [...entries];
    const known = new Set(all.map((e) => e.mountKey));
    for (const key of this.minted.keys()) if (!known.has(key)) this.minted.delete(key); // unpublished
    for (const key of this.givenUp) if (!known.has(key) || this.options.live.get(key) !== undefined) this.givenUp.delete(key); // unpublished, or republished
    const due = all.filter((e) => e.door === 'csi' && !this.givenUp.has(e.mountKey) && this.needsToken(e.mountKey));
    // Sequential on purpose: after a restart of a full node this is one TokenRequest per pod, and the
    // API server's priority and fairness prefers a steady trickle to a burst.
    for (const entry of due) {
      try {
        await this.rejoinOne(entry);
        report.rejoined.push(entry.mountKey);
      } catch (e) {
        const error = asSecretletError(e, { code: 'INTERNAL', reason: 'RejoinFailed' });
        report.failed.push({ mountKey: entry.mountKey, reason: error.reason });
        if (error.code === 'PERMISSION_DENIED') {
          this.forbidden = true;
          this.options.logger.error(
            { mountKey: entry.mountKey, error: error.message },
            '--mint-tokens is on but the agent may not create serviceaccounts/token (deploy/components/serviceaccount-token); restored mounts wait for kubelet republishes',
          );
          return report;
        }
        if (isTransient(error)) {
          // The API server is throttling or away: asking for the other mounts now would only add to
          // it, and would hold this rotation cycle (and a shutdown) behind its Retry-After waits.
          this.options.logger.warn({ mountKey: entry.mountKey, reason: error.reason, error: error.message, waiting: due.length - report.rejoined.length - 1 }, 'restored mounts wait for the next cycle: the API server did not answer a token request');
          return report;
        }
        this.givenUp.add(entry.mountKey);
        this.options.logger.warn({ mountKey: entry.mountKey, reason: error.reason, error: error.message }, 'restored mount keeps waiting for a republish');
      }
    }
    return report;
  }

  private needsToken(mountKey: string): boolean {
    const runtime = this.options.live.get(mountKey);
    const mine = this.minted.get(mountKey);
    if (runtime === undefined) return true;
    if (mine === undefined) return false;
    if (runtime.tokenSeenAt !== mine.tokenSeenAt) {
      // kubelet republished: its token is the one to use from now on.
      this.minted.delete(mountKey);
      return false;
    }
    return mine.expiresAtMs - this.now() <= (this.options.refreshBeforeMs ?? 600_000);
  }

  private async rejoinOne(entry: MountEntry): Promise<void> {
    const { live, minter, catalog, readFiles, kubeletWriter } = this.options;
    const { pod } = entry;
    const spc = await catalog.get(pod.namespace, entry.secretProviderClass);
    if (spc === undefined) {
      throw new SecretletError({ code: 'NOT_FOUND', reason: 'SecretProviderClassNotFound', message: `secretproviderclass ${pod.namespace}/${entry.secretProviderClass} not found` });
    }
    const audience = audienceFor(entry.authMode);
    // The attributes the driver would send on a republish: SPC parameters, then the pod keys and tokens.
    // Planned first with a stand-in token: a mount whose SPC or files changed costs no TokenRequest.
    const attributesWith = (token: AudienceToken): string =>
      JSON.stringify({
        ...spc.parameters,
        [ATTR_POD_NAMESPACE]: pod.namespace,
        [ATTR_POD_NAME]: pod.name,
        [ATTR_POD_UID]: pod.uid,
        [ATTR_SERVICE_ACCOUNT_NAME]: entry.serviceAccount,
        [ATTR_TOKENS]: JSON.stringify({ [audience]: token }),
      });
    // The primary region the mount was planned with (a `region` parameter still wins inside prepareMount).
    const regions = { primaryRegion: (): Promise<string> => Promise.resolve(entry.regions[0] ?? '') };
    const standIn: AudienceToken = { token: 'not-minted-yet', expirationTimestamp: new Date(this.now() + 3_600_000).toISOString() };
    const { plan } = await prepareMount({ attributes: attributesWith(standIn), targetPath: entry.targetPath, permission: CSI_PERMISSION }, { regions });
    if (!sameObjects(plan.objects, entry.objects) || JSON.stringify(plan.regions) !== JSON.stringify(entry.regions) || plan.authMode !== entry.authMode) {
      throw new SecretletError({
        code: 'FAILED_PRECONDITION',
        reason: 'SecretProviderClassChanged',
        message: `secretproviderclass ${pod.namespace}/${entry.secretProviderClass} changed since ${entry.mountKey} was mounted; the next republish applies it`,
      });
    }
    // What the pod sees now, so the next cycle rewrites only what really changed (and pinned objects render).
    const files = await readFiles(entry.targetPath);
    const versionById = new Map(entry.objects.map((o) => [o.id, o.version]));
    const values = new Map<number, FetchedObject>();
    for (const d of plan.objects) {
      const bytes = files.get(d.fileName);
      if (bytes === undefined) {
        throw new SecretletError({ code: 'FAILED_PRECONDITION', reason: 'MountedFileMissing', message: `${entry.mountKey} has no file ${d.fileName}` });
      }
      values.set(d.index, { bytes, version: versionById.get(d.fileName) ?? '' });
    }
    const token = await minter.mint({ namespace: pod.namespace, serviceAccount: entry.serviceAccount, audience, pod: { name: pod.name, uid: pod.uid } });
    const { identity } = await prepareMount({ attributes: attributesWith(token), targetPath: entry.targetPath, permission: CSI_PERMISSION }, { regions });
    // A republish may have filled the runtime while we minted: kubelet's token wins.
    const current = live.get(entry.mountKey);
    const mine = this.minted.get(entry.mountKey);
    if (current !== undefined && current.tokenSeenAt !== mine?.tokenSeenAt) return;
    live.set({ mountKey: entry.mountKey, door: 'csi', plan, identity, targetPath: entry.targetPath, writer: kubeletWriter, values: current?.values ?? values, versions: current?.versions ?? entry.objects.map((o) => ({ id: o.id, version: o.version })) });
    const expiresAtMs = Date.parse(token.expirationTimestamp);
    this.minted.set(entry.mountKey, {
      tokenSeenAt: live.get(entry.mountKey)?.tokenSeenAt ?? 0,
      expiresAtMs: Number.isFinite(expiresAtMs) ? expiresAtMs : this.now() + 3_600_000,
    });
  }
}

/** A failure the API server may not repeat: throttled (429), unavailable (5xx), unreachable or timed out. */
function isTransient(error: SecretletError): boolean {
  return error.code === 'UNAVAILABLE' || error.code === 'DEADLINE_EXCEEDED' || error.code === 'RESOURCE_EXHAUSTED';
}
