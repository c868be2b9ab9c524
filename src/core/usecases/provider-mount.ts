/**
 * The provider door's use case (`v1alpha1.CSIDriverProvider/Mount`): what an unmodified upstream
 * driver asks of ASCP, answered from the shared mount pipeline. In "provider writes" mode (ASCP's
 * default) the files are written here, all or nothing, and the response carries none; in "driver
 * writes" mode they are returned for the driver's own atomic writer.
 */
import { mountKeyFor, mountKeyFromTargetPath } from '../events/mount-events.js';
import type { ObjectVersion, RenderedFile } from '../model.js';
import type { CallerSignal } from '../ports/caller-signal.js';
import type { MountFreshness } from '../ports/mount-freshness.js';
import type { PayloadWriter } from '../ports/payload-writer.js';
import { callerGoneError } from './caller-gone.js';
import type { SecretletError } from '../errors.js';
import type { MountPipelineDeps, FetchedMount } from './mount-pipeline.js';
import { fetchMount, prepareMount } from './mount-pipeline.js';

export interface ProviderMountInput {
  attributes: string;
  /** nodePublishSecretRef data as JSON: ignored, as ASCP does, and never logged. */
  secrets: string;
  targetPath: string;
  permission: string;
  currentObjectVersion: ObjectVersion[];
  /** When the door received the call (MountPipelineDeps.clock); now when unset. */
  receivedAt?: number;
  /**
   * Aborts when the driver's deadline passes or it cancels. On a failed first mount the driver then
   * unmounts the tmpfs, so a write after that would land on the node's disk (upstream #1051).
   */
  signal?: CallerSignal;
}

export interface ProviderMountOutput {
  objectVersion: ObjectVersion[];
  files: RenderedFile[];
}

/** Told about every successful mount, e.g. to record it in the event log. */
export interface MountListener {
  /** `targetPath` is where the files are (or, in driver-writes mode, will be written by the driver). */
  mounted(mount: FetchedMount, outcome: { changed: boolean; targetPath: string; stamp?: string }): Promise<void>;
}

export interface ProviderMountServiceOptions extends MountPipelineDeps {
  /** Undefined: the driver writes (files are returned). Otherwise this writer fills the target path. */
  writer: PayloadWriter | undefined;
  listener?: MountListener;
  /**
   * Answers a repeated Mount of a target this agent wrote and keeps current (provider-writes mode
   * only) without reading AWS again. Absent: every Mount fetches.
   */
  freshness?: MountFreshness;
}

export class ProviderMountService {
  private readonly options: ProviderMountServiceOptions;

  constructor(options: ProviderMountServiceOptions) {
    this.options = options;
  }

  async mount(input: ProviderMountInput): Promise<ProviderMountOutput> {
    const receivedAt = input.receivedAt ?? this.options.clock?.now();
    const prepared = await prepareMount(input, this.options);
    const { writer, freshness } = this.options;
    if (writer !== undefined && freshness !== undefined && receivedAt !== undefined) {
      // The same key the listener records the mount under (see MountRecorder.mounted).
      const mountKey = mountKeyFromTargetPath(input.targetPath) ?? mountKeyFor(prepared.plan.pod.uid, input.targetPath);
      const versions = await freshness.current({ door: 'provider', mountKey, targetPath: input.targetPath, plan: prepared.plan, identity: prepared.identity, receivedAt });
      if (versions !== undefined) return { objectVersion: versions, files: [] };
    }
    const fetched = await fetchMount(prepared, this.options, receivedAt);
    if (writer === undefined) {
      await this.options.listener?.mounted(fetched, { changed: true, targetPath: input.targetPath });
      return { objectVersion: fetched.versions, files: fetched.files };
    }
    // The fetch (or the write's wait for a pool thread) may outlast the driver's deadline; past it
    // the target may be a bare directory on the node's disk, so the writer checks the signal again
    // right before it starts.
    const gone = (signal: CallerSignal): SecretletError => callerGoneError(signal, `${prepared.plan.pod.namespace}/${prepared.plan.pod.name}`, 'writing the files');
    if (input.signal?.aborted === true) throw gone(input.signal);
    const outcome = await writer.write(input.targetPath, fetched.files, input.signal === undefined ? undefined : { signal: input.signal });
    if (outcome.skipped !== undefined && input.signal !== undefined) throw gone(input.signal);
    await this.options.listener?.mounted(fetched, { changed: outcome.changed, targetPath: input.targetPath, ...(outcome.stamp === undefined ? {} : { stamp: outcome.stamp }) });
    return { objectVersion: fetched.versions, files: [] };
  }
}
