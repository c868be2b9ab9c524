/**
 * Kubernetes Events on pods (mount failures, `FailedMount`) and Secrets (sync failures,
 * `FailedToCreateSecret`), rate-limited per object, reason and message so a pod stuck in a retry loop
 * does not flood the API server, while two different problems of one pod (two secretObjects failing)
 * are each reported. Messages are the agent's error messages, which never hold values or tokens.
 *
 * A repeat of a problem already reported updates that Event (count + 1, lastTimestamp), as
 * client-go's event correlator does, instead of creating another: a pod stuck for an hour shows one
 * Event "x120", not 120 Event objects in etcd. One gone meanwhile (the API server's 1 h Event TTL)
 * is created anew, as is one the agent may not patch. The ClusterRole grants `create` and `patch`
 * on events, as upstream's does.
 */
import { CoreV1Api, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import type { KubeConfig } from '@kubernetes/client-node';
import { LRUCache } from 'lru-cache';

export interface EventTarget {
  kind: 'Pod' | 'Secret';
  namespace: string;
  name: string;
  uid?: string;
}

export interface EventRecorderOptions {
  component?: string;
  /** Minimum time between two Events of one object, reason and message. @default 30_000 */
  minIntervalMs?: number;
  now?: () => number;
}

export class KubeEventRecorder {
  private readonly api: CoreV1Api;
  private readonly component: string;
  private readonly minIntervalMs: number;
  private readonly now: () => number;
  /** Per object, reason and message: when it was last sent, and the Event that carries it. */
  private readonly last = new LRUCache<string, { sentAt: number; event?: { name: string; count: number } }>({ max: 10_000 });

  constructor(kc: KubeConfig, options: EventRecorderOptions = {}) {
    this.api = kc.makeApiClient(CoreV1Api);
    this.component = options.component ?? 'secretlet';
    this.minIntervalMs = options.minIntervalMs ?? 30_000;
    this.now = options.now ?? Date.now;
  }

  /** Records a Warning Event; never throws (an Event is best effort). Returns whether it was sent. */
  async warning(target: EventTarget, reason: string, message: string): Promise<boolean> {
    const key = `${target.kind}/${target.namespace}/${target.name}/${reason}/${message}`;
    const now = this.now();
    const previous = this.last.get(key);
    if (previous !== undefined && now - previous.sentAt < this.minIntervalMs) return false;
    const entry: { sentAt: number; event?: { name: string; count: number } } = { sentAt: now, ...(previous?.event === undefined ? {} : { event: previous.event }) };
    this.last.set(key, entry);
    const time = new Date(now);
    try {
      if (entry.event !== undefined && (await this.bump(target.namespace, entry.event, time))) return true;
      const created = await this.api.createNamespacedEvent({
        namespace: target.namespace,
        body: {
          metadata: { generateName: `${target.name}.`, namespace: target.namespace },
          involvedObject: { kind: target.kind, apiVersion: 'v1', namespace: target.namespace, name: target.name, ...(target.uid ? { uid: target.uid } : {}) },
          reason,
          message: message.slice(0, 1024),
          type: 'Warning',
          source: { component: this.component },
          firstTimestamp: time,
          lastTimestamp: time,
          count: 1,
          reportingComponent: this.component,
        },
      });
      const name = created.metadata?.name;
      if (name !== undefined) entry.event = { name, count: 1 };
      return true;
    } catch {
      return false;
    }
  }

  /**
   * Counts a repeat on the Event already sent. False when that cannot be done, and a new Event is
   * created instead: the Event is gone (its TTL), or patching it is refused (a ClusterRole from
   * before `patch` was granted on events) — a repeat must never go unreported.
   */
  private async bump(namespace: string, event: { name: string; count: number }, time: Date): Promise<boolean> {
    try {
      await this.api.patchNamespacedEvent(
        { namespace, name: event.name, body: { count: event.count + 1, lastTimestamp: time } },
        setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
      );
      event.count += 1;
      return true;
    } catch {
      return false;
    }
  }
}
