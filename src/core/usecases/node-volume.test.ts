/**
 * NodeVolumeService over in-memory fakes of every port: what a publish commits (directory, tmpfs,
 * files, pod status) and what it undoes, when kubelet gives up, when a listener fails, and in which
 * order the upstream checks answer.
 */
import { describe, expect, it } from 'vitest';
import { SecretletError } from '../errors.js';
import type { AwsIdentity, FetchedObject, ObjectRequest, RenderedFile } from '../model.js';
import type { CallerSignal } from '../ports/caller-signal.js';
import type { PayloadWriter, WriteOutcome } from '../ports/payload-writer.js';
import type { PodStatusRecord, PodStatusStore } from '../ports/pod-status-store.js';
import type { RegionResolver } from '../ports/region-resolver.js';
import type { SecretSource } from '../ports/secret-source.js';
import type { SecretProviderClassSpec, SpcCatalog } from '../ports/spc-catalog.js';
import type { PublishUndo, TargetDirectory, VolumeMounter } from '../ports/volume-mounter.js';
import { ok } from '../result.js';
import type { Result } from '../result.js';
import { NodeVolumeService } from './node-volume.js';
import { rollbackFailureOf } from './rollback-failure.js';
import type { NodePublishInput, NodeVolumeListener, PublishFailure } from './node-volume.js';

const TARGET = '/var/lib/kubelet/pods/uid-1/volumes/kubernetes.io~csi/secrets/mount';
const TOKENS = JSON.stringify({ 'sts.amazonaws.com': { token: 'jwt', expirationTimestamp: '2030-01-01T00:00:00Z' } });

/** Everything a hook may do between two steps: nothing, or something the test scripts (abort, fail). */
type Hook = () => void | Promise<void>;

class FakeCatalog implements SpcCatalog {
  spc: SecretProviderClassSpec = {
    namespace: 'default',
    name: 'app-secrets',
    uid: 'spc-uid',
    provider: 'aws',
    parameters: { objects: '- objectName: db\n  objectType: secretsmanager\n', region: 'us-east-1' },
    secretObjects: [],
  };

  get(namespace: string, name: string): Promise<SecretProviderClassSpec | undefined> {
    return Promise.resolve(namespace === this.spc.namespace && name === this.spc.name ? this.spc : undefined);
  }
}

class FakeSource implements SecretSource {
  calls = 0;
  readonly tokens: string[] = [];
  /** Runs before the values come back: a slow AWS, or one that fails. */
  beforeAnswer: Hook = () => undefined;
  /** Every object's value. */
  value = new TextEncoder().encode('value');

  async fetch(identity: AwsIdentity, _region: string, requests: readonly ObjectRequest[]): Promise<Array<Result<FetchedObject, SecretletError>>> {
    this.calls += 1;
    this.tokens.push(identity.token);
    await this.beforeAnswer();
    return requests.map(() => ok({ bytes: this.value, version: `v${this.calls}` }));
  }
}

const noRegions: RegionResolver = { primaryRegion: () => Promise.reject(new Error('the SPC names its region')) };

class FakeMounter implements VolumeMounter {
  readonly mounted = new Set<string>();
  readonly mounts: string[] = [];
  beforeMount: Hook = () => undefined;

  async mount(target: string): Promise<void> {
    await this.beforeMount();
    this.mounts.push(target);
    this.mounted.add(target);
  }

  unmount(target: string): Promise<void> {
    this.mounted.delete(target);
    return Promise.resolve();
  }

  isMountPoint(target: string): Promise<boolean> {
    return Promise.resolve(this.mounted.has(target));
  }
}

class FakeTargets implements TargetDirectory {
  readonly ensured: string[] = [];
  readonly cleanedUp: string[] = [];
  /** What failed publishes undid, in order. */
  readonly undone: Array<{ target: string } & PublishUndo> = [];
  /** Target directories that exist (kubelet made them, or ensure did). */
  readonly existing = new Set<string>();
  /** Targets holding a payload the writer finished (its `..data` link). */
  readonly payloads = new Set<string>();
  failCleanup: Error | undefined;
  payloadChecks = 0;

  constructor(private readonly mounter: FakeMounter) {}

  hasPayload(target: string): Promise<boolean> {
    this.payloadChecks += 1;
    return Promise.resolve(this.payloads.has(target));
  }

  ensure(target: string): Promise<boolean> {
    this.ensured.push(target);
    const created = !this.existing.has(target);
    this.existing.add(target);
    return Promise.resolve(created);
  }

  async undoPublish(target: string, undo: PublishUndo): Promise<void> {
    this.undone.push({ target, ...undo });
    if (this.failCleanup !== undefined) throw this.failCleanup;
    if (undo.unmount) {
      this.payloads.delete(target);
      await this.mounter.unmount(target);
    }
    if (undo.removeDir) this.existing.delete(target);
  }

  async cleanup(target: string): Promise<void> {
    this.cleanedUp.push(target);
    if (this.failCleanup !== undefined) throw this.failCleanup;
    this.payloads.delete(target);
    await this.mounter.unmount(target);
  }
}

class FakeWriter implements PayloadWriter {
  readonly writes: Array<{ target: string; files: readonly RenderedFile[] }> = [];
  beforeWrite: Hook = () => undefined;

  constructor(private readonly targets: FakeTargets) {}

  async write(target: string, files: readonly RenderedFile[]): Promise<WriteOutcome> {
    await this.beforeWrite();
    this.writes.push({ target, files });
    this.targets.payloads.add(target);
    return { changed: true };
  }
}

class FakePodStatuses implements PodStatusStore {
  readonly upserts: PodStatusRecord[] = [];
  failUpsert: SecretletError | undefined;
  /** Runs inside the write with the signal it was given, as an API client waiting on the server. */
  during: ((signal: CallerSignal | undefined) => Promise<void>) | undefined;

  async upsert(record: PodStatusRecord, signal?: CallerSignal): Promise<void> {
    await this.during?.(signal);
    if (this.failUpsert !== undefined) throw this.failUpsert;
    this.upserts.push(record);
  }

  setObjects(): Promise<boolean> {
    return Promise.resolve(true);
  }
}

class FakeListener implements NodeVolumeListener {
  readonly failures: PublishFailure[] = [];
  /** A listener whose own write fails (the event log on a full disk). */
  failWith: Error | undefined;

  published(): Promise<void> {
    return Promise.resolve();
  }

  publishFailed(info: PublishFailure): Promise<void> {
    this.failures.push(info);
    return this.failWith === undefined ? Promise.resolve() : Promise.reject(this.failWith);
  }

  unpublished(): Promise<void> {
    return Promise.resolve();
  }
}

function node() {
  const catalog = new FakeCatalog();
  const source = new FakeSource();
  const mounter = new FakeMounter();
  const targets = new FakeTargets(mounter);
  const writer = new FakeWriter(targets);
  const podStatuses = new FakePodStatuses();
  const listener = new FakeListener();
  const service = new NodeVolumeService({ nodeName: 'node-1', catalog, source, regions: noRegions, mounter, targets, writer, podStatuses, listener, tmpfsSizeBytes: 1 << 20 });
  return { service, catalog, source, mounter, targets, writer, podStatuses, listener };
}

function request(overrides: Partial<NodePublishInput> = {}): NodePublishInput {
  return {
    volumeId: 'csi-0123',
    targetPath: TARGET,
    volumeContext: {
      secretProviderClass: 'app-secrets',
      'csi.storage.k8s.io/pod.name': 'web-0',
      'csi.storage.k8s.io/pod.namespace': 'default',
      'csi.storage.k8s.io/pod.uid': 'uid-1',
      'csi.storage.k8s.io/serviceAccount.name': 'app',
      'csi.storage.k8s.io/serviceAccount.tokens': TOKENS,
    },
    secrets: {},
    readonly: true,
    ...overrides,
  };
}

async function failure(p: Promise<unknown>): Promise<SecretletError> {
  try {
    await p;
  } catch (e) {
    if (e instanceof SecretletError) return e;
    throw e;
  }
  throw new Error('expected the publish to fail');
}

/** The reason call-signal.ts aborts a call with when kubelet's deadline passed. */
const deadlineExceeded = new SecretletError({ code: 'DEADLINE_EXCEEDED', reason: 'DeadlineExceeded', message: "the caller's deadline expired" });

function untilAborted(signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
}

describe('NodeVolumeService.publish: which service-account token', () => {
  const tokensOf = (jwt: string) => JSON.stringify({ 'sts.amazonaws.com': { token: jwt, expirationTimestamp: '2030-01-01T00:00:00Z' } });

  it("uses kubelet's token from the volume context over one in the pod's nodePublishSecretRef secrets", async () => {
    const n = node();
    await n.service.publish(request({ secrets: { 'csi.storage.k8s.io/serviceAccount.tokens': tokensOf('planted') } }));
    expect(n.source.tokens).toEqual(['jwt']);
  });

  it('takes the token from secrets when kubelet puts it there (serviceAccountTokenInSecrets)', async () => {
    const n = node();
    const { ['csi.storage.k8s.io/serviceAccount.tokens']: _dropped, ...ctx } = request().volumeContext;
    await n.service.publish(request({ volumeContext: ctx, secrets: { 'csi.storage.k8s.io/serviceAccount.tokens': tokensOf('from-secrets') } }));
    expect(n.source.tokens).toEqual(['from-secrets']);
  });
});

describe('NodeVolumeService.publish when kubelet gives up', () => {
  it('stops before mounting when the deadline passed during the fetch, and leaves the target to kubelet', async () => {
    const n = node();
    const kubelet = new AbortController();
    n.source.beforeAnswer = () => untilAborted(kubelet.signal);
    const publishing = n.service.publish(request({ signal: kubelet.signal }));
    await Promise.resolve();
    kubelet.abort(deadlineExceeded);

    const error = await failure(publishing);
    expect({ code: error.code, reason: error.reason }).toEqual({ code: 'DEADLINE_EXCEEDED', reason: 'DeadlineExceeded' });
    expect(error.message).toContain('default/web-0');
    expect(n.targets.ensured).toEqual([]);
    expect(n.mounter.mounts).toEqual([]);
    expect(n.writer.writes).toEqual([]);
    expect(n.podStatuses.upserts).toEqual([]);
    // Nothing of this call's is on the node; a cleanup now could only remove a kubelet retry's mount.
    expect(n.targets.undone).toEqual([]);
    expect(n.listener.failures.map((f) => f.error.code)).toEqual(['DEADLINE_EXCEEDED']);
  });

  it('answers CANCELLED for a cancel that is not a deadline', async () => {
    const n = node();
    const kubelet = new AbortController();
    n.source.beforeAnswer = () => untilAborted(kubelet.signal);
    const publishing = n.service.publish(request({ signal: kubelet.signal }));
    kubelet.abort();
    expect((await failure(publishing)).code).toBe('CANCELLED');
    expect(n.mounter.mounts).toEqual([]);
  });

  it('answers DEADLINE_EXCEEDED for a timeout signal', async () => {
    const n = node();
    const kubelet = new AbortController();
    n.source.beforeAnswer = () => untilAborted(kubelet.signal);
    const publishing = n.service.publish(request({ signal: kubelet.signal }));
    kubelet.abort(new DOMException('signal timed out', 'TimeoutError'));
    expect((await failure(publishing)).code).toBe('DEADLINE_EXCEEDED');
  });

  it('writes no files into a tmpfs it mounted after the deadline, and removes that tmpfs', async () => {
    const n = node();
    const kubelet = new AbortController();
    n.mounter.beforeMount = () => kubelet.abort(deadlineExceeded);
    expect((await failure(n.service.publish(request({ signal: kubelet.signal })))).code).toBe('DEADLINE_EXCEEDED');
    expect(n.writer.writes).toEqual([]);
    expect(n.podStatuses.upserts).toEqual([]);
    expect(n.targets.undone).toEqual([{ target: TARGET, unmount: true, removeDir: true }]);
    expect(n.mounter.mounted.size).toBe(0);
  });

  it('writes no pod status after the deadline, and removes the files it wrote', async () => {
    const n = node();
    const kubelet = new AbortController();
    n.writer.beforeWrite = () => kubelet.abort(deadlineExceeded);
    expect((await failure(n.service.publish(request({ signal: kubelet.signal })))).code).toBe('DEADLINE_EXCEEDED');
    expect(n.podStatuses.upserts).toEqual([]);
    expect(n.targets.undone).toEqual([{ target: TARGET, unmount: true, removeDir: true }]);
  });

  it('stops a pod status write that is waiting when the deadline passes, and removes the first mount', async () => {
    const n = node();
    const kubelet = new AbortController();
    // The API server asked the write to wait (429 Retry-After); the client gives up with its caller.
    n.podStatuses.during = (signal) =>
      new Promise((_resolve, reject) => {
        (signal as AbortSignal).addEventListener('abort', () => reject(new Error('aborted while waiting')), { once: true });
        kubelet.abort(deadlineExceeded);
      });
    const error = await failure(n.service.publish(request({ signal: kubelet.signal })));
    expect(error.code).toBe('DEADLINE_EXCEEDED');
    expect(error.message).toContain('before finishing the pod status write');
    expect(n.targets.undone).toEqual([{ target: TARGET, unmount: true, removeDir: true }]);
    expect(n.listener.failures.map((f) => f.error.code)).toEqual(['DEADLINE_EXCEEDED']);
  });

  it('keeps the old files of a republish and masks the cancel, as any failed republish', async () => {
    const n = node();
    await n.service.publish(request());
    const kubelet = new AbortController();
    n.source.beforeAnswer = () => kubelet.abort(deadlineExceeded);
    await expect(n.service.publish(request({ signal: kubelet.signal }))).resolves.toBeUndefined();
    expect(n.writer.writes).toHaveLength(1);
    expect(n.targets.undone).toEqual([]);
    expect(n.listener.failures.map((f) => ({ code: f.error.code, firstMount: f.firstMount }))).toEqual([{ code: 'DEADLINE_EXCEEDED', firstMount: false }]);
  });

  it('runs to the end when the signal never aborts', async () => {
    const n = node();
    await n.service.publish(request({ signal: new AbortController().signal }));
    expect(n.writer.writes).toHaveLength(1);
    expect(n.podStatuses.upserts).toHaveLength(1);
  });
});

describe('NodeVolumeService.publish undoes only its own work when a first mount fails', () => {
  it('leaves the target alone when it failed before touching it (refused input, a failed read)', async () => {
    const n = node();
    expect((await failure(n.service.publish(request({ readonly: false })))).code).toBe('INVALID_ARGUMENT');
    n.source.beforeAnswer = () => {
      throw new SecretletError({ code: 'UNAVAILABLE', reason: 'Unavailable', message: 'Secrets Manager unavailable' });
    };
    expect((await failure(n.service.publish(request()))).code).toBe('UNAVAILABLE');
    expect(n.targets.undone).toEqual([]);
    expect(n.targets.cleanedUp).toEqual([]);
  });

  it('unmounts its tmpfs but keeps a target directory kubelet had made', async () => {
    const n = node();
    n.targets.existing.add(TARGET);
    n.podStatuses.failUpsert = new SecretletError({ code: 'UNAVAILABLE', reason: 'ApiServerUnavailable', message: 'api server unavailable' });
    expect((await failure(n.service.publish(request()))).code).toBe('UNAVAILABLE');
    expect(n.targets.undone).toEqual([{ target: TARGET, unmount: true, removeDir: false }]);
    expect(n.targets.existing.has(TARGET)).toBe(true);
    expect(n.mounter.mounted.size).toBe(0);
  });
});

describe('NodeVolumeService.publish when its listener fails', () => {
  const diskFull = new Error('ENOSPC: no space left on device, write');

  it('still masks a failed republish', async () => {
    const n = node();
    await n.service.publish(request());
    n.listener.failWith = diskFull;
    n.source.beforeAnswer = () => {
      throw new SecretletError({ code: 'UNAVAILABLE', reason: 'Unavailable', message: 'Secrets Manager unavailable' });
    };
    await expect(n.service.publish(request())).resolves.toBeUndefined();
    expect(n.targets.undone).toEqual([]);
  });

  it('still rolls back a failed first mount and answers its own error', async () => {
    const n = node();
    n.listener.failWith = diskFull;
    n.podStatuses.failUpsert = new SecretletError({ code: 'UNAVAILABLE', reason: 'ApiServerUnavailable', message: 'api server unavailable' });
    const error = await failure(n.service.publish(request()));
    expect({ code: error.code, reason: error.reason }).toEqual({ code: 'UNAVAILABLE', reason: 'ApiServerUnavailable' });
    expect(n.targets.undone).toEqual([{ target: TARGET, unmount: true, removeDir: true }]);
    expect(n.mounter.mounted.size).toBe(0);
  });
});

describe('NodeVolumeService.publish when the rollback fails', () => {
  it('answers the publish error, with the rollback failure beside it for the log', async () => {
    const n = node();
    n.targets.failCleanup = new Error('EBUSY: resource busy, umount');
    n.podStatuses.failUpsert = new SecretletError({ code: 'UNAVAILABLE', reason: 'ApiServerUnavailable', message: 'api server unavailable' });
    const error = await failure(n.service.publish(request()));
    expect({ code: error.code, reason: error.reason }).toEqual({ code: 'UNAVAILABLE', reason: 'ApiServerUnavailable' });
    expect(error.message).toMatch(/^failed to create secret provider class pod status for pod default\/web-0, err: /);
    expect(rollbackFailureOf(error)).toBe('EBUSY: resource busy, umount');
  });
});

describe('NodeVolumeService.publish into a mount point that holds no payload', () => {
  const unavailable = new SecretletError({ code: 'UNAVAILABLE', reason: 'Unavailable', message: 'Secrets Manager unavailable' });

  it('fails like a first mount when the fetch fails: a crash between the tmpfs and the files must not become an empty volume', async () => {
    const n = node();
    // The agent died after mounting the tmpfs and before writing: kubelet's retry finds a mount point, no `..data`.
    n.mounter.mounted.add(TARGET);
    n.source.beforeAnswer = () => {
      throw unavailable;
    };
    const error = await failure(n.service.publish(request()));
    expect({ code: error.code, reason: error.reason }).toEqual({ code: 'UNAVAILABLE', reason: 'Unavailable' });
    expect(n.targets.undone).toEqual([{ target: TARGET, unmount: true, removeDir: false }]);
    expect(n.mounter.mounted.size).toBe(0);
    expect(n.listener.failures.map((f) => f.firstMount)).toEqual([true]);
  });

  it('still masks a failed republish of a target that holds the files, checking the payload only then', async () => {
    const n = node();
    await n.service.publish(request());
    await n.service.publish(request());
    expect(n.targets.payloadChecks).toBe(0);
    n.source.beforeAnswer = () => {
      throw unavailable;
    };
    await expect(n.service.publish(request())).resolves.toBeUndefined();
    // The failure, and only it, looked for the files before masking.
    expect(n.targets.payloadChecks).toBe(1);
    expect(n.targets.undone).toEqual([]);
    expect(n.mounter.mounted.has(TARGET)).toBe(true);
    expect(n.listener.failures.map((f) => f.firstMount)).toEqual([false]);
  });

  it('fails closed when the payload cannot be checked', async () => {
    const n = node();
    await n.service.publish(request());
    n.targets.hasPayload = () => Promise.reject(new Error('EIO: i/o error, readlink'));
    n.source.beforeAnswer = () => {
      throw unavailable;
    };
    expect((await failure(n.service.publish(request()))).code).toBe('UNAVAILABLE');
    expect(n.targets.undone).toEqual([{ target: TARGET, unmount: true, removeDir: false }]);
  });
});

describe('NodeVolumeService.publish check order (driver.md §1.5)', () => {
  it('refuses readonly false before it refuses a provider other than aws (steps 16, 19)', async () => {
    const n = node();
    n.catalog.spc = { ...n.catalog.spc, provider: 'vault' };
    const error = await failure(n.service.publish(request({ readonly: false })));
    expect({ code: error.code, reason: error.reason, field: error.field }).toEqual({ code: 'INVALID_ARGUMENT', reason: 'ReadonlyNotSet', field: 'readonly' });
  });

  it('refuses an unset provider before readonly false (steps 13, 16)', async () => {
    const n = node();
    n.catalog.spc = { ...n.catalog.spc, provider: '' };
    expect((await failure(n.service.publish(request({ readonly: false })))).reason).toBe('ProviderNotSet');
  });

  it('refuses missing parameters before a provider other than aws (steps 14, 19)', async () => {
    const n = node();
    n.catalog.spc = { ...n.catalog.spc, provider: 'vault', parameters: undefined };
    expect((await failure(n.service.publish(request()))).reason).toBe('ParametersNotSet');
  });

  it('refuses a payload whose two copies (live and rotated) would not fit the tmpfs, naming --tmpfs-size, mounting nothing', async () => {
    const n = node(); // tmpfs of 1 MiB
    n.source.value = new Uint8Array(600 * 1024);
    const error = await failure(n.service.publish(request()));
    expect({ code: error.code, reason: error.reason, field: error.field }).toEqual({ code: 'FAILED_PRECONDITION', reason: 'PayloadTooLargeForTmpfs', field: 'tmpfsSize' });
    expect(error.message).toMatch(/^failed to mount secrets store objects for pod [^,]+, err: the payload takes 0\.6 MiB of tmpfs .* exceeds the volume's tmpfs size of 1\.0 MiB; raise --tmpfs-size/);
    expect(n.mounter.mounts).toEqual([]);

    // Half the tmpfs, to the page, still mounts.
    const fits = node();
    fits.source.value = new Uint8Array(512 * 1024);
    await fits.service.publish(request());
    expect(fits.mounter.mounts).toEqual([TARGET]);
  });

  it('refuses a provider other than aws, mounting nothing', async () => {
    const n = node();
    n.catalog.spc = { ...n.catalog.spc, provider: 'vault' };
    const error = await failure(n.service.publish(request()));
    expect({ code: error.code, reason: error.reason }).toEqual({ code: 'UNKNOWN', reason: 'ProviderNotFound' });
    // The driver's words: its provider lookup fails inside the mount step.
    expect(error.message).toMatch(/^failed to mount secrets store objects for pod [^,]+, err: error connecting to provider "vault": provider not found: provider "vault"$/);
    expect(n.mounter.mounts).toEqual([]);
    expect(n.source.calls).toBe(0);
  });

  it('calls a provider name the driver could never look up invalid, as the driver does', async () => {
    const n = node();
    n.catalog.spc = { ...n.catalog.spc, provider: 'a/b' };
    expect((await failure(n.service.publish(request()))).message).toMatch(/err: error connecting to provider "a\/b": invalid provider: provider "a\/b"$/);
  });
});
