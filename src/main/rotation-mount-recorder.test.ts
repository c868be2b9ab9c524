import { describe, expect, it } from 'vitest';
import { InMemoryEventLog } from '../adapters/eventlog/in-memory-event-log.js';
import { createLogger } from '../adapters/logging/logger.js';
import type { LoggedEvent, NewEvent } from '../core/events/events.js';
import type { EventLog } from '../core/ports/event-log.js';
import { identityFor, parseMountRequest, planMount } from '../core/spc/mount-request.js';
import type { FetchedMount } from '../core/usecases/mount-pipeline.js';
import { EventJournal } from './event-journal.js';
import { MountRecorder } from './rotation-mount-recorder.js';
import { LiveMounts } from './rotation-live-mounts.js';

const TOKENS = JSON.stringify({ 'sts.amazonaws.com': { token: 'jwt', expirationTimestamp: '2030-01-01T00:00:00Z' } });
const TARGET = '/var/lib/kubelet/pods/uid-1/volumes/kubernetes.io~csi/secrets/mount';

function fetched(mode: string): FetchedMount {
  const attributes = {
    'csi.storage.k8s.io/pod.namespace': 'default',
    'csi.storage.k8s.io/pod.name': 'web-0',
    'csi.storage.k8s.io/pod.uid': 'uid-1',
    'csi.storage.k8s.io/serviceAccount.name': 'app',
    'csi.storage.k8s.io/serviceAccount.tokens': TOKENS,
    region: 'us-east-1',
    objects: '- objectName: db\n  objectType: secretsmanager\n',
  };
  const parsed = parseMountRequest({ attributes: JSON.stringify(attributes), targetPath: TARGET, permission: mode });
  return { parsed, plan: planMount(parsed, 'us-east-1'), identity: identityFor(parsed), files: [{ path: 'db', mode: parseInt(mode, 10), contents: new TextEncoder().encode('v') }], versions: [{ id: 'db', version: 'v1' }] };
}

/** An event log whose appends wait until the test lets them through, one at a time: a slow fsync. */
class GatedLog implements EventLog {
  readonly inner = new InMemoryEventLog();
  readonly held: Array<() => void> = [];
  append(events: readonly NewEvent[]): Promise<LoggedEvent[]> {
    return new Promise<void>((resolve) => this.held.push(resolve)).then(() => this.inner.append(events));
  }
  replay(): AsyncIterable<LoggedEvent> {
    return this.inner.replay();
  }
  snapshot(): ReturnType<EventLog['snapshot']> {
    return this.inner.snapshot();
  }
  compact(state: Parameters<EventLog['compact']>[0]): Promise<void> {
    return this.inner.compact(state);
  }
  close(): Promise<void> {
    return this.inner.close();
  }
}

describe('MountRecorder, two Mounts of one target overlapping', () => {
  it('records each Mount with the stamp its own write left, not what the directory shows by the time its log append returns', async () => {
    const log = new GatedLog();
    const journal = new EventJournal({ log, hasher: { hash: (b: Uint8Array) => `h${b.length}` }, logger: createLogger({ level: 'silent' }) });
    const live = new LiveMounts();
    let onDisk = 'dev:ino:1:1';
    const recorder = new MountRecorder({ journal: () => journal, live, providerWriter: { write: () => Promise.resolve({ changed: true }) }, targetStamp: () => onDisk });

    // Mount A wrote its files (stamp …:1:1) and waits on its append; Mount B then writes (…:2:2).
    const a = recorder.mounted(fetched('384'), { changed: true, targetPath: TARGET, stamp: 'dev:ino:1:1' });
    onDisk = 'dev:ino:2:2';
    // The append is queued once the recorder awaits it; let it through then.
    while (log.held.length === 0) await Promise.resolve();
    log.held.shift()?.();
    await a;
    expect(live.get('uid-1/secrets')?.targetStamp).toBe('dev:ino:1:1');
  });
});
