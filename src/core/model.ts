/**
 * The shared vocabulary of the domain: what a mount asks for (MountPlan), what is fetched
 * (ObjectRequest / FetchedObject) and what is produced (RenderedFile / ObjectVersion).
 * Plain data only, so every type here can cross a worker-thread boundary unchanged.
 */

export type ObjectType = 'secretsmanager' | 'ssmparameter';
export type AuthMode = 'irsa' | 'podIdentity';
export type AddressPreference = 'auto' | 'ipv4' | 'ipv6';

/** The pod keys kubelet adds to a mount (`csi.storage.k8s.io/pod.*`, `serviceAccount.name`). */
export interface PodInfo {
  namespace: string;
  name: string;
  uid: string;
  serviceAccount: string;
}

/** One `serviceAccount.tokens` entry: a projected token for one audience. Held in memory only. */
export interface AudienceToken {
  token: string;
  expirationTimestamp: string;
}

export interface JmesPathEntry {
  path: string;
  objectAlias: string;
  /** Four octal digits as written, or '' for "inherit the parent's". */
  filePermission: string;
}

export interface FailoverObject {
  objectName: string;
  objectVersion: string;
  objectVersionLabel: string;
}

/** One validated entry of the `objects` parameter. Empty string means "not set", as in ASCP. */
export interface ObjectDescriptor {
  /** Position in the `objects` list, used to name the field in errors (`objects[3].objectAlias`). */
  index: number;
  objectName: string;
  objectType: ObjectType;
  objectAlias: string;
  objectVersion: string;
  objectVersionLabel: string;
  filePermission: string;
  jmesPath: JmesPathEntry[];
  failoverObject: FailoverObject | undefined;
  /** The file this object is written to, after path translation (also its ObjectVersion id). */
  fileName: string;
}

/** `pathTranslation`: a single replacement byte for '/', or no translation at all. */
export type PathTranslation = { kind: 'replace'; char: string } | { kind: 'none' };

/**
 * Everything one mount needs, validated. Built from the driver's `attributes` (the SPC parameters
 * merged with the pod keys) by pure code; regions are resolved before objects are validated because
 * ARN objects must name the primary region.
 */
export interface MountPlan {
  pod: PodInfo;
  /** Primary first; a second entry is the failover region. */
  regions: string[];
  authMode: AuthMode;
  preferredAddressType: AddressPreference;
  pathTranslation: PathTranslation;
  objects: ObjectDescriptor[];
  /** Default file mode from the request's `permission` (driver sends 420 = 0644). */
  defaultMode: number;
}

/** What to fetch for one object in one region. */
export type ObjectRequest =
  | { type: 'secretsmanager'; secretId: string; versionId?: string; versionStage?: string }
  | { type: 'ssmparameter'; name: string; selector?: string };

export interface FetchedObject {
  bytes: Uint8Array;
  /** Secrets Manager VersionId, or the SSM version number in decimal. */
  version: string;
}

/** The pod identity a fetch runs as. The token is the pod's own, for the audience of `mode`. */
export interface AwsIdentity {
  mode: AuthMode;
  namespace: string;
  serviceAccount: string;
  podUid: string;
  token: string;
  preferredAddressType: AddressPreference;
}

/** One file of a mount's payload: a relative, clean path, its mode and bytes. */
export interface RenderedFile {
  path: string;
  mode: number;
  contents: Uint8Array;
}

/** What the driver stores in SecretProviderClassPodStatus: file id → version. */
export interface ObjectVersion {
  id: string;
  version: string;
}
