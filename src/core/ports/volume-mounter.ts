/** Mounts and unmounts the per-pod tmpfs that holds a volume's files (kubelet door only). */
export interface VolumeMounter {
  mount(target: string, options: { sizeBytes: number }): Promise<void>;
  unmount(target: string): Promise<void>;
  isMountPoint(target: string): Promise<boolean>;
}

/** Prepares and tears down a volume's target directory around the mount. */
export interface TargetDirectory {
  ensure(target: string): Promise<void>;
  /**
   * Whether the target holds a payload the writer completed (kubelet layout: its `..data` link). A
   * mount point without one is a tmpfs whose first mount never finished (the agent was killed
   * between mount and write), not a volume with files to keep.
   */
  hasPayload(target: string): Promise<boolean>;
  /** NodeUnpublishVolume: remove contents, unmount if mounted, remove the directory; safe to repeat. */
  cleanup(target: string): Promise<void>;
}
