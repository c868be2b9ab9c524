/**
 * Options of `secretlet manifests`, in two stages like the agent's own options: raw
 * `ManifestOptions` (all optional, from CLI flags or a caller) and `compileManifestOptions`, which
 * fills defaults and rejects values that would produce a broken or unpinned install, naming the
 * option. Defaults are "change nothing": the overlay in deploy/ as written.
 */
import { parseAccountQuotas } from '../config/account-quotas.js';
import { parseDuration } from '../config/duration.js';
import { invalidArgument } from '../core/errors.js';

export type ManifestMode = 'kubelet' | 'provider';
export type ManifestLogLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal' | 'silent';

/** A container's `resources`, as in the Kubernetes API (quantities are strings: '50m', '128Mi'). */
export interface ResourceRequirements {
  requests?: Record<string, string>;
  limits?: Record<string, string>;
  /** Dynamic resource allocation: names of the pod's `resourceClaims` (and a request in one). */
  claims?: Array<{ name: string; request?: string }>;
}

/** A pod toleration, as in the Kubernetes API. */
export interface Toleration {
  key?: string;
  operator?: 'Exists' | 'Equal';
  value?: string;
  effect?: 'NoSchedule' | 'PreferNoSchedule' | 'NoExecute';
  tolerationSeconds?: number;
}

export interface ManifestOptions {
  /** kubelet: secretlet is the CSI driver; provider: it stands behind an upstream driver. @default 'kubelet' */
  mode?: ManifestMode;
  /** Namespace of the ServiceAccount and DaemonSet. @default 'kube-system' */
  namespace?: string;
  /** Agent image, pinned by tag or digest (never :latest). @default the image in deploy/base/daemonset.yaml */
  image?: string;
  /** Default AWS region (`--region`); set, the agent never reads node labels, so `nodes get` is dropped. @default '' */
  region?: string;
  /** `--rotation-interval`, e.g. '2m' or '1m30s'; '0' turns rotation off. @default '2m' */
  rotationInterval?: string;
  /** `--log-level`. @default 'info' */
  logLevel?: ManifestLogLevel;
  /** `--fleet-size`: nodes sharing the AWS account and region; per-node call budgets derive from it. @default the agent's (100) */
  fleetSize?: number;
  /** `--account-quotas`, e.g. 'GetParameters=3000' where the account's quotas differ from AWS's. @default the agent's (AWS's) */
  accountQuotas?: string;
  /** Replaces the secretlet container's resources. @default as in deploy/base/daemonset.yaml */
  resources?: ResourceRequirements;
  /** Replaces the pod's tolerations. @default [{ operator: Exists }] */
  tolerations?: Toleration[];
  /** Pod priority class; '' removes it. @default 'system-node-critical' */
  priorityClassName?: string;
  /**
   * Kubelet mode: false turns Secret sync off (`--sync-secrets=false`) and drops the ClusterRole's
   * access to Secrets, which no other feature needs. @default true (as the overlay)
   */
  syncSecrets?: boolean;
  /** Kubelet mode: kubelet's root directory where it is not /var/lib/kubelet (RKE, MicroK8s…). @default '/var/lib/kubelet' */
  kubeletRootDir?: string;
  /** The deploy/ directory to read. @default `<package root>/deploy` */
  deployDir?: string;
}

export interface CompiledManifestOptions {
  mode: ManifestMode;
  namespace: string | undefined;
  image: string | undefined;
  region: string | undefined;
  rotationInterval: string | undefined;
  logLevel: ManifestLogLevel | undefined;
  fleetSize: number | undefined;
  accountQuotas: string | undefined;
  resources: ResourceRequirements | undefined;
  tolerations: Toleration[] | undefined;
  priorityClassName: string | undefined;
  syncSecrets: boolean | undefined;
  kubeletRootDir: string | undefined;
  deployDir: string;
}

const MODES: readonly ManifestMode[] = ['kubelet', 'provider'];
const LOG_LEVELS: readonly ManifestLogLevel[] = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'];
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
// Kubernetes resource.Quantity, e.g. 50m, 0.5, 128Mi, 1G, 1e3.
const QUANTITY = /^[+-]?(\d+(\.\d*)?|\.\d+)(m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei|[eE][+-]?\d+)?$/;
const REGION = /^[a-z]{2}(-[a-z]+)+-\d+$/;
// The fields of the Kubernetes types the JSON flags replace: anything else makes kubectl refuse the DaemonSet.
const RESOURCES_FIELDS = ['limits', 'requests', 'claims'];
const CLAIM_FIELDS = ['name', 'request'];
const TOLERATION_FIELDS = ['key', 'operator', 'value', 'effect', 'tolerationSeconds'];
// '' matches every effect.
const TOLERATION_EFFECTS = ['NoSchedule', 'PreferNoSchedule', 'NoExecute', ''];

function fail(option: string, message: string): never {
  throw invalidArgument('InvalidOption', `options.${option} ${message}`, option);
}

/** Pinned: a digest, or a tag other than `latest`. A registry port (host:5000/x) is not a tag. */
export function isPinnedImage(image: string): boolean {
  if (/\s/.test(image) || image === '') return false;
  if (/@sha256:[0-9a-f]{64}$/.test(image)) return true;
  const lastSegment = image.slice(image.lastIndexOf('/') + 1);
  const colon = lastSegment.indexOf(':');
  if (colon < 0) return false;
  const tag = lastSegment.slice(colon + 1);
  return tag !== '' && tag !== 'latest';
}

/** What a JSON value is, for a message (never the value itself). */
function kindOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Refuses a field `value` has that its Kubernetes type does not, naming it and the ones it has. */
function checkFields(value: Record<string, unknown>, fields: readonly string[], option: string, type: string): void {
  const extra = Object.keys(value).find((k) => !fields.includes(k));
  if (extra !== undefined) fail(`${option}.${extra}`, `is not a field of ${type} (${fields.join(', ')})`);
}

function checkQuantities(map: unknown, option: string): void {
  if (map === undefined) return;
  if (!isObject(map)) fail(option, `must be a map of resource name to quantity (got ${kindOf(map)})`);
  for (const [name, quantity] of Object.entries(map)) {
    if (typeof quantity !== 'string' || !QUANTITY.test(quantity)) fail(`${option}.${name}`, `must be a quantity like 50m or 128Mi (got "${String(quantity)}")`);
  }
}

function checkClaims(claims: unknown): void {
  if (claims === undefined) return;
  if (!Array.isArray(claims)) fail('resources.claims', `must be a list (got ${kindOf(claims)})`);
  claims.forEach((claim: unknown, i) => {
    const at = `resources.claims[${i}]`;
    if (!isObject(claim)) fail(at, `must be an object (got ${kindOf(claim)})`);
    checkFields(claim, CLAIM_FIELDS, at, 'a resource claim');
    if (typeof claim['name'] !== 'string' || claim['name'] === '') fail(`${at}.name`, 'must be the name of one of the pod\'s resourceClaims');
  });
}

/** A container's ResourceRequirements: limits and requests of resource name → quantity, claims. */
function checkResources(resources: unknown): void {
  if (!isObject(resources)) fail('resources', `must be an object with limits, requests or claims (got ${kindOf(resources)})`);
  checkFields(resources, RESOURCES_FIELDS, 'resources', "a container's resources");
  checkQuantities(resources['requests'], 'resources.requests');
  checkQuantities(resources['limits'], 'resources.limits');
  checkClaims(resources['claims']);
}

function checkToleration(t: unknown, i: number): void {
  const at = `tolerations[${i}]`;
  if (!isObject(t)) fail(at, `must be an object (got ${kindOf(t)})`);
  checkFields(t, TOLERATION_FIELDS, at, 'a toleration');
  for (const field of ['key', 'value'] as const) {
    if (t[field] !== undefined && typeof t[field] !== 'string') fail(`${at}.${field}`, `must be a string (got ${kindOf(t[field])})`);
  }
  if (t['operator'] !== undefined && t['operator'] !== 'Exists' && t['operator'] !== 'Equal') fail(`${at}.operator`, 'must be Exists or Equal');
  if (t['operator'] === 'Exists' && t['value'] !== undefined) fail(`${at}.value`, 'must be empty when operator is Exists');
  if (t['effect'] !== undefined && !TOLERATION_EFFECTS.includes(t['effect'] as string)) fail(`${at}.effect`, 'must be NoSchedule, PreferNoSchedule, NoExecute or empty');
  if (t['tolerationSeconds'] !== undefined) {
    if (!Number.isInteger(t['tolerationSeconds'])) fail(`${at}.tolerationSeconds`, 'must be a whole number of seconds');
    // The API server refuses it with any other effect: only NoExecute evicts, after that long.
    if (t['effect'] !== 'NoExecute') fail(`${at}.tolerationSeconds`, 'applies only with effect NoExecute');
  }
}

function checkTolerations(tolerations: unknown): void {
  if (!Array.isArray(tolerations)) fail('tolerations', `must be a list (got ${kindOf(tolerations)})`);
  tolerations.forEach((t: unknown, i) => checkToleration(t, i));
}

export function compileManifestOptions(o: ManifestOptions, defaultDeployDir: () => string): CompiledManifestOptions {
  const mode = o.mode ?? 'kubelet';
  if (!MODES.includes(mode)) fail('mode', `must be one of ${MODES.join(', ')} (got "${String(mode)}")`);
  if (o.namespace !== undefined && (!DNS_LABEL.test(o.namespace) || o.namespace.length > 63)) {
    fail('namespace', `must be a DNS-1123 label (got "${o.namespace}")`);
  }
  if (o.image !== undefined && !isPinnedImage(o.image)) fail('image', `must be pinned by a tag other than latest or by a digest (got "${o.image}")`);
  if (o.region !== undefined && o.region !== '' && !REGION.test(o.region)) fail('region', `must be an AWS region like us-east-1 (got "${o.region}")`);
  // The agent's own grammar (Go's durations): what passes here, the agent accepts.
  if (o.rotationInterval !== undefined) parseDuration(o.rotationInterval, 'rotationInterval');
  if (o.logLevel !== undefined && !LOG_LEVELS.includes(o.logLevel)) fail('logLevel', `must be one of ${LOG_LEVELS.join(', ')}`);
  if (o.fleetSize !== undefined && (!Number.isInteger(o.fleetSize) || o.fleetSize < 1)) fail('fleetSize', `must be a positive integer (got "${String(o.fleetSize)}")`);
  if (o.accountQuotas !== undefined) parseAccountQuotas(o.accountQuotas);
  // Typed here, but from the CLI they are whatever JSON the user gave: check the shape, not just values.
  if (o.resources !== undefined) checkResources(o.resources);
  if (o.tolerations !== undefined) checkTolerations(o.tolerations);
  if (o.priorityClassName !== undefined && o.priorityClassName !== '' && !/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(o.priorityClassName)) {
    fail('priorityClassName', `must be a DNS-1123 subdomain (got "${o.priorityClassName}")`);
  }
  // Both touch only what the kubelet overlay has: the provider overlay has no Secret access (the
  // driver syncs) and its pod directory is the upstream driver's to configure.
  if (o.syncSecrets !== undefined && typeof o.syncSecrets !== 'boolean') fail('syncSecrets', 'must be true or false');
  if (o.syncSecrets === false && mode !== 'kubelet') fail('syncSecrets', 'applies to kubelet mode only (in provider mode the upstream driver syncs Secrets)');
  if (o.kubeletRootDir !== undefined) {
    if (mode !== 'kubelet') fail('kubeletRootDir', 'applies to kubelet mode only (in provider mode set the driver\'s own kubelet directory)');
    if (!/^\/[^\s]*[^/\s]$/.test(o.kubeletRootDir) || o.kubeletRootDir.split('/').some((p) => p === '.' || p === '..') || o.kubeletRootDir.includes('//')) {
      fail('kubeletRootDir', `must be an absolute, normalised path without a trailing slash (got "${o.kubeletRootDir}")`);
    }
  }
  return {
    mode,
    namespace: o.namespace,
    image: o.image,
    region: o.region,
    rotationInterval: o.rotationInterval,
    logLevel: o.logLevel,
    fleetSize: o.fleetSize,
    accountQuotas: o.accountQuotas,
    resources: o.resources === undefined ? undefined : structuredClone(o.resources),
    tolerations: o.tolerations === undefined ? undefined : structuredClone(o.tolerations),
    priorityClassName: o.priorityClassName,
    syncSecrets: o.syncSecrets,
    kubeletRootDir: o.kubeletRootDir,
    deployDir: o.deployDir ?? defaultDeployDir(),
  };
}
