/**
 * The field sets the API server decodes for each kind served, as far as the emulator models them:
 * every top-level field and ObjectMeta for the built-in kinds, a Pod's spec and containers one level
 * down, and the full structural schema of the CSI CRDs (deploy/base/crd-*.yaml, which the
 * emulator's test compares against). A node typed `any` is not modelled further: whatever is under
 * it is kept as sent. Unknown fields elsewhere are dropped (pruned), warned about or refused,
 * as `fieldValidation` asks (field-validation.ts).
 */
import type { ResourceType } from './resources.js';

export type Schema =
  | { type: 'object'; properties?: Readonly<Record<string, Schema>>; additionalProperties?: Schema }
  | { type: 'array'; items: Schema }
  | { type: 'string' | 'boolean' | 'integer' | 'number' | 'any' };

const str: Schema = { type: 'string' };
const bool: Schema = { type: 'boolean' };
const int: Schema = { type: 'integer' };
const any: Schema = { type: 'any' };
const obj = (properties: Record<string, Schema>): Schema => ({ type: 'object', properties });
const map = (values: Schema): Schema => ({ type: 'object', additionalProperties: values });
const arr = (items: Schema): Schema => ({ type: 'array', items });
/** Fields whose content is not modelled. */
const anyOf = (names: string[]): Record<string, Schema> => Object.fromEntries(names.map((n) => [n, any]));

export const OBJECT_META: Schema = obj({
  name: str,
  generateName: str,
  namespace: str,
  selfLink: str,
  uid: str,
  resourceVersion: str,
  generation: int,
  creationTimestamp: any,
  deletionTimestamp: any,
  deletionGracePeriodSeconds: int,
  labels: map(str),
  annotations: map(str),
  ownerReferences: arr(obj({ apiVersion: str, kind: str, name: str, uid: str, controller: bool, blockOwnerDeletion: bool })),
  finalizers: arr(str),
  managedFields: arr(any),
});

const typeMeta = { apiVersion: str, kind: str, metadata: OBJECT_META };

/** core/v1 Container (k8s.io/api 1.32). */
const CONTAINER = obj(
  anyOf([
    'name', 'image', 'command', 'args', 'workingDir', 'ports', 'envFrom', 'env', 'resources', 'resizePolicy', 'restartPolicy',
    'volumeMounts', 'volumeDevices', 'livenessProbe', 'readinessProbe', 'startupProbe', 'lifecycle', 'terminationMessagePath',
    'terminationMessagePolicy', 'imagePullPolicy', 'securityContext', 'stdin', 'stdinOnce', 'tty',
  ]),
);

/** core/v1 PodSpec (k8s.io/api 1.32). */
const POD_SPEC = obj({
  ...anyOf([
    'volumes', 'ephemeralContainers', 'restartPolicy', 'terminationGracePeriodSeconds', 'activeDeadlineSeconds', 'dnsPolicy',
    'nodeSelector', 'serviceAccountName', 'serviceAccount', 'automountServiceAccountToken', 'nodeName', 'hostNetwork', 'hostPID',
    'hostIPC', 'shareProcessNamespace', 'securityContext', 'imagePullSecrets', 'hostname', 'subdomain', 'affinity', 'schedulerName',
    'tolerations', 'hostAliases', 'priorityClassName', 'priority', 'dnsConfig', 'readinessGates', 'runtimeClassName',
    'enableServiceLinks', 'preemptionPolicy', 'overhead', 'topologySpreadConstraints', 'setHostnameAsFQDN', 'os', 'hostUsers',
    'schedulingGates', 'resourceClaims', 'resources',
  ]),
  containers: arr(CONTAINER),
  initContainers: arr(CONTAINER),
});

const BUILTIN: Readonly<Record<string, Schema>> = {
  Secret: obj({ ...typeMeta, data: map(str), stringData: map(str), type: str, immutable: bool }),
  ServiceAccount: obj({ ...typeMeta, ...anyOf(['secrets', 'imagePullSecrets', 'automountServiceAccountToken']) }),
  Namespace: obj({ ...typeMeta, spec: obj({ finalizers: arr(str) }), status: obj(anyOf(['phase', 'conditions'])) }),
  Node: obj({ ...typeMeta, spec: obj(anyOf(['podCIDR', 'podCIDRs', 'providerID', 'unschedulable', 'taints', 'configSource', 'externalID'])), status: any }),
  Pod: obj({ ...typeMeta, spec: POD_SPEC, status: any }),
  Event: obj({
    ...typeMeta,
    ...anyOf([
      'involvedObject', 'reason', 'message', 'source', 'firstTimestamp', 'lastTimestamp', 'count', 'type', 'eventTime', 'series',
      'action', 'related', 'reportingComponent', 'reportingInstance',
    ]),
  }),
};

/** deploy/base/crd-secretproviderclasses.yaml (v1 and v1alpha1 share it). */
export const SPC_SCHEMA: Schema = obj({
  ...typeMeta,
  spec: obj({
    parameters: map(str),
    provider: str,
    secretObjects: arr(obj({ annotations: map(str), data: arr(obj({ key: str, objectName: str })), labels: map(str), secretName: str, type: str })),
  }),
  status: obj({ byPod: arr(obj({ id: str, namespace: str })) }),
});

/** deploy/base/crd-secretproviderclasspodstatuses.yaml. */
export const SPCPS_SCHEMA: Schema = obj({
  ...typeMeta,
  status: obj({ mounted: bool, objects: arr(obj({ id: str, version: str })), podName: str, secretProviderClassName: str, targetPath: str }),
});

const CUSTOM: Readonly<Record<string, Schema>> = { SecretProviderClass: SPC_SCHEMA, SecretProviderClassPodStatus: SPCPS_SCHEMA };

export function schemaOf(type: ResourceType): Schema | undefined {
  return type.builtin ? BUILTIN[type.kind] : CUSTOM[type.kind];
}
