/**
 * The resource types the emulator serves: the catalogue that routing, discovery, the store and the
 * OpenAPI documents all read, so adding a type is one entry here.
 */

export interface ResourceType {
  /** `<group>/<plural>` ('' group for core), unique key of the type. */
  readonly id: string;
  readonly group: string;
  readonly version: string;
  /** `v1` or `<group>/<version>`, as written in an object's apiVersion. */
  readonly apiVersion: string;
  readonly plural: string;
  readonly singular: string;
  readonly kind: string;
  readonly listKind: string;
  readonly namespaced: boolean;
  /** True for types compiled into kubectl/client-go (strategic merge patch is meaningful for them). */
  readonly builtin: boolean;
  /** As a real API server lists them (the CSI CRDs have none). */
  readonly shortNames: readonly string[];
  /**
   * The field selector labels the API server accepts for the type: `metadata.name` and
   * `metadata.namespace` for every type (all a custom resource gets), plus what the type's registry
   * adds (pkg/registry/core/<type>/strategy.go). Any other label is a 400.
   */
  readonly fieldLabels: ReadonlySet<string>;
  /**
   * Whether the type has a `status` subresource: built-in pods, nodes and namespaces do; the CSI
   * CRDs (deploy/base/crd-*.yaml) declare none, so their `/status` URLs are 404.
   */
  readonly statusSubresource: boolean;
  /** False for namespaces, whose registry has no DeleteCollection (405, and no verb in discovery). */
  readonly deleteCollection: boolean;
  /**
   * Whether a DELETE answers with the deleted object (the registry's ReturnDeletedObject: pods,
   * service accounts, namespaces) or with a `Status` of success (secrets, nodes, events, custom resources).
   */
  readonly returnsDeletedObject: boolean;
  /** The categories `kubectl get <category>` expands (`all` holds pods among the kinds served). */
  readonly categories: readonly string[];
  /**
   * Set for a served version that is not the storage version (CSI v1alpha1): objects are stored as
   * the storage version and only relabelled on the way in and out (the CRDs use conversion None).
   */
  readonly deprecation?: string;
}

const OBJECT_VERBS = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'] as const;

/** The verbs discovery lists for a type. */
export function verbsOf(type: ResourceType): string[] {
  return OBJECT_VERBS.filter((v) => v !== 'deletecollection' || type.deleteCollection);
}

const METADATA_FIELD_LABELS = ['metadata.name', 'metadata.namespace'];

interface Definition {
  group: string;
  version: string;
  plural: string;
  kind: string;
  namespaced: boolean;
  shortNames?: string[];
  fieldLabels?: string[];
  statusSubresource?: boolean;
  deleteCollection?: boolean;
  returnsDeletedObject?: boolean;
  categories?: string[];
  deprecation?: string;
}

function define(o: Definition): ResourceType {
  const builtin = o.group === '';
  return {
    id: `${o.group}/${o.plural}`,
    group: o.group,
    version: o.version,
    apiVersion: builtin ? o.version : `${o.group}/${o.version}`,
    plural: o.plural,
    singular: o.kind.toLowerCase(),
    kind: o.kind,
    listKind: `${o.kind}List`,
    namespaced: o.namespaced,
    builtin,
    shortNames: o.shortNames ?? [],
    fieldLabels: new Set([...METADATA_FIELD_LABELS, ...(o.fieldLabels ?? [])]),
    statusSubresource: o.statusSubresource ?? false,
    deleteCollection: o.deleteCollection ?? true,
    returnsDeletedObject: o.returnsDeletedObject ?? false,
    categories: o.categories ?? [],
    ...(o.deprecation === undefined ? {} : { deprecation: o.deprecation }),
  };
}

/**
 * The CSI types as their CRDs serve them: v1 (storage) and the deprecated v1alpha1 with the same
 * schema. The API server's default warning for a deprecated CRD version names the kind.
 */
function csiType(o: { version: string; plural: string; kind: string }): ResourceType {
  const deprecation = o.version === CSI_STORAGE_VERSION ? undefined : `${CSI_GROUP}/${o.version} ${o.kind} is deprecated; use ${CSI_GROUP}/${CSI_STORAGE_VERSION} ${o.kind}`;
  return define({ group: CSI_GROUP, ...o, namespaced: true, ...(deprecation === undefined ? {} : { deprecation }) });
}

export const CSI_GROUP = 'secrets-store.csi.x-k8s.io';
const CSI_STORAGE_VERSION = 'v1';

/** Every type served, core/v1 first. */
export const RESOURCE_TYPES: readonly ResourceType[] = [
  define({ group: '', version: 'v1', plural: 'namespaces', shortNames: ['ns'], kind: 'Namespace', namespaced: false, fieldLabels: ['status.phase'], statusSubresource: true, deleteCollection: false, returnsDeletedObject: true }),
  define({ group: '', version: 'v1', plural: 'nodes', shortNames: ['no'], kind: 'Node', namespaced: false, fieldLabels: ['spec.unschedulable'], statusSubresource: true }),
  define({
    group: '',
    version: 'v1',
    plural: 'pods',
    shortNames: ['po'],
    kind: 'Pod',
    namespaced: true,
    fieldLabels: ['spec.nodeName', 'spec.restartPolicy', 'spec.schedulerName', 'spec.serviceAccountName', 'spec.hostNetwork', 'status.phase', 'status.podIP', 'status.nominatedNodeName'],
    statusSubresource: true,
    returnsDeletedObject: true,
    categories: ['all'],
  }),
  define({ group: '', version: 'v1', plural: 'serviceaccounts', shortNames: ['sa'], kind: 'ServiceAccount', namespaced: true, returnsDeletedObject: true }),
  define({ group: '', version: 'v1', plural: 'secrets', kind: 'Secret', namespaced: true, fieldLabels: ['type'] }),
  define({
    group: '',
    version: 'v1',
    plural: 'events',
    shortNames: ['ev'],
    kind: 'Event',
    namespaced: true,
    fieldLabels: [
      'involvedObject.kind',
      'involvedObject.namespace',
      'involvedObject.name',
      'involvedObject.uid',
      'involvedObject.apiVersion',
      'involvedObject.resourceVersion',
      'involvedObject.fieldPath',
      'reason',
      'reportingComponent',
      'source',
      'type',
    ],
  }),
  // Storage versions before served-only ones: typeById and the discovery order pick the first.
  csiType({ version: 'v1', plural: 'secretproviderclasses', kind: 'SecretProviderClass' }),
  csiType({ version: 'v1', plural: 'secretproviderclasspodstatuses', kind: 'SecretProviderClassPodStatus' }),
  csiType({ version: 'v1alpha1', plural: 'secretproviderclasses', kind: 'SecretProviderClass' }),
  csiType({ version: 'v1alpha1', plural: 'secretproviderclasspodstatuses', kind: 'SecretProviderClassPodStatus' }),
];


/** Looks a type up by the URL's group, version and plural. */
export function typeByPath(group: string, version: string, plural: string): ResourceType | undefined {
  return RESOURCE_TYPES.find((t) => t.group === group && t.version === version && t.plural === plural);
}

/** Looks a type up by an object's apiVersion and kind. */
export function typeByKind(apiVersion: string, kind: string): ResourceType | undefined {
  return RESOURCE_TYPES.find((t) => t.apiVersion === apiVersion && t.kind === kind);
}

/** The storage version of a type (its first entry): every served version of it shares one id and one store. */
export function typeById(id: string): ResourceType | undefined {
  return RESOURCE_TYPES.find((t) => t.id === id);
}

/** The name Kubernetes uses in messages: `secrets` for core, `<plural>.<group>` otherwise. */
export function qualifiedName(type: ResourceType): string {
  return type.group === '' ? type.plural : `${type.plural}.${type.group}`;
}

/** The group versions served, in discovery order. */
export function groupVersions(): { group: string; version: string }[] {
  const seen = new Map<string, { group: string; version: string }>();
  for (const t of RESOURCE_TYPES) seen.set(`${t.group}/${t.version}`, { group: t.group, version: t.version });
  return [...seen.values()];
}
