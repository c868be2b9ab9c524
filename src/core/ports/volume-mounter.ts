/** Mounts and unmounts the per-pod tmpfs that holds a volume's files (kubelet door only). */
export interface VolumeMounter {
  mount(target: string, options: { sizeBytes: number }): Promise<void>;
  unmount(target: string): Promise<void>;
  isMountPoint(target: string): Promise<boolean>;
}

/** Prepares and tears down a volume's target directory around the mount. */
/** What a failed publish undoes of its own work: never more, so a target's other content survives. */
export interface PublishUndo {
  /**
   * Remove what the payload writer made there (`..data`, its timestamped dirs, the links through
   * it), then unmount the tmpfs: the one this call mounted, or one an earlier first mount of this
   * agent left without a payload (it was killed between the mount and the write).
   */
  unmount: boolean;
  /** Remove the target directory: this call created it (only if it is still empty). */
  removeDir: boolean;
}

export interface TargetDirectory {
  /** `mkdir -p` of the target; true when this call created it. */
  ensure(target: string): Promise<boolean>;
  /** Undoes a failed first mount (PublishUndo); upstream likewise only unmounts its tmpfs. */
  undoPublish(target: string, undo: PublishUndo): Promise<void>;
  /**
   * Whether the target holds a payload the writer completed (kubelet layout: its `..data` link). A
   * mount point without one is a tmpfs whose first mount never finished (the agent was killed
   * between mount and write), not a volume with files to keep.
   */
  hasPayload(target: string): Promise<boolean>;
  /** NodeUnpublishVolume: remove contents, unmount if mounted, remove the directory; safe to repeat. */
  cleanup(target: string): Promise<void>;
}
