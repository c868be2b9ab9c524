/**
 * Kubernetes Events on pods (mount failures, `FailedMount`) and Secrets (sync failures,
 * `FailedToCreateSecret`), rate-limited per object, reason and message so a pod stuck in a retry loop
 * does not flood the API server, while two different problems of one pod (two secretObjects failing)
 * are each reported. Messages are the agent's error messages, which never hold values or tokens.
 */
import { CoreV1Api } from '@kubernetes/client-node';
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
  private readonly last = new LRUCache<string, number>({ max: 10_000 });

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
    if (previous !== undefined && now - previous < this.minIntervalMs) return false;
    this.last.set(key, now);
    const time = new Date(now);
    try {
      await this.api.createNamespacedEvent({
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
      return true;
    } catch {
      return false;
    }
  }
}
