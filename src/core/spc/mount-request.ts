/**
 * The two-phase entry both doors use to turn a mount request into a MountPlan.
 *
 * Phase 1, `parseMountRequest`, is ASCP's Mount steps 2–12 (aws-provider.md §8) in ASCP's order:
 * target path, attributes, tokens, permission, the regions (step 9), usePodIdentity, the token for
 * the chosen audience, then pathTranslation (ASCP checks that first thing in step 15, which is
 * still before any object is looked at). Step 9 needs the primary region: the `region` parameter,
 * or else the node's, the only I/O, cached per node. So the phase is split there:
 * `parseMountRequestHead` (steps 2–8) gives the pod whose node is asked, and
 * `parseMountRequestRest` continues once the primary is known, so a failed region lookup or a
 * failover region equal to the primary is reported before a bad usePodIdentity, as ASCP does.
 * Phase 2, `planMount`, validates every object — all before any AWS call (ASCP validates objects
 * only after its Kubernetes and credential calls).
 */
import { invalidArgument } from '../errors.js';
import { targetPathProblem } from './target-path.js';
import type { AddressPreference, AudienceToken, AuthMode, AwsIdentity, MountPlan, PathTranslation, PodInfo } from '../model.js';
import {
  ATTR_FAILOVER_REGION,
  ATTR_OBJECTS,
  ATTR_PATH_TRANSLATION,
  ATTR_POD_NAME,
  ATTR_POD_NAMESPACE,
  ATTR_POD_UID,
  ATTR_PREFERRED_ADDRESS_TYPE,
  ATTR_REGION,
  ATTR_SERVICE_ACCOUNT_NAME,
  ATTR_TOKENS,
  ATTR_USE_POD_IDENTITY,
  attribute,
  parseAttributes,
} from './attributes.js';
import { parsePathTranslation, parsePermission, parsePreferredAddressType, parseUsePodIdentity, resolveRegions } from './parameters.js';
import { parseServiceAccountTokens, tokenForMode } from './tokens.js';
import { validateObjects } from './validate-objects.js';
import type { ValidateObjectsOptions } from './validate-objects.js';
import type { ValidatedObjectsMemo } from './validated-objects-memo.js';

export interface MountRequestInput {
  attributes: string;
  targetPath: string;
  permission: string;
}

export interface ParsedMountRequest {
  pod: PodInfo;
  tokens: Record<string, AudienceToken>;
  regionParam: string;
  failoverRegionParam: string;
  authMode: AuthMode;
  preferredAddressType: AddressPreference;
  pathTranslation: PathTranslation;
  objectsText: string;
  defaultMode: number;
  attributes: Record<string, string>;
}

export function podFromAttributes(attributes: Record<string, string>): PodInfo {
  return {
    namespace: attribute(attributes, ATTR_POD_NAMESPACE),
    name: attribute(attributes, ATTR_POD_NAME),
    uid: attribute(attributes, ATTR_POD_UID),
    serviceAccount: attribute(attributes, ATTR_SERVICE_ACCOUNT_NAME),
  };
}

/** Steps 2–8 and the region parameters: what the primary-region lookup needs, nothing after it. */
export interface MountRequestHead {
  pod: PodInfo;
  tokens: Record<string, AudienceToken>;
  regionParam: string;
  failoverRegionParam: string;
  defaultMode: number;
  attributes: Record<string, string>;
}

/** ASCP's steps 2–8; throws the first error in ASCP's order. */
export function parseMountRequestHead(input: MountRequestInput): MountRequestHead {
  if (input.targetPath === '') throw invalidArgument('MissingTargetPath', 'Missing mount path', 'target_path');
  const badTargetPath = targetPathProblem(input.targetPath);
  if (badTargetPath !== undefined) throw badTargetPath;
  const attributes = parseAttributes(input.attributes);
  const tokens = parseServiceAccountTokens(attribute(attributes, ATTR_TOKENS));
  const defaultMode = parsePermission(input.permission);
  return {
    pod: podFromAttributes(attributes),
    tokens,
    regionParam: attribute(attributes, ATTR_REGION),
    failoverRegionParam: attribute(attributes, ATTR_FAILOVER_REGION),
    defaultMode,
    attributes,
  };
}

/**
 * ASCP's steps 9–12 and its pathTranslation check, once the primary region is known (the `region`
 * parameter or the node's). Without one (offline validation with no region) the region check is
 * left out and the rest still runs.
 */
export function parseMountRequestRest(head: MountRequestHead, primaryRegion: string | undefined): ParsedMountRequest {
  const { attributes, tokens } = head;
  if (primaryRegion !== undefined && primaryRegion !== '') resolveRegions(primaryRegion, head.failoverRegionParam);
  const authMode = parseUsePodIdentity(attribute(attributes, ATTR_USE_POD_IDENTITY));
  tokenForMode(tokens, authMode);
  const preferredAddressType = parsePreferredAddressType(attribute(attributes, ATTR_PREFERRED_ADDRESS_TYPE));
  const pathTranslation = parsePathTranslation(attribute(attributes, ATTR_PATH_TRANSLATION));
  return {
    pod: head.pod,
    tokens,
    regionParam: head.regionParam,
    failoverRegionParam: head.failoverRegionParam,
    authMode,
    preferredAddressType,
    pathTranslation,
    objectsText: attribute(attributes, ATTR_OBJECTS),
    defaultMode: head.defaultMode,
    attributes,
  };
}

/**
 * Phase 1 in one go: everything that needs no I/O except the objects; throws the first error in
 * ASCP's order. `primaryRegion` stands for the node's region when there is no `region` parameter.
 */
export function parseMountRequest(input: MountRequestInput, primaryRegion?: string): ParsedMountRequest {
  const head = parseMountRequestHead(input);
  return parseMountRequestRest(head, head.regionParam !== '' ? head.regionParam : primaryRegion);
}

/** Phase 2: regions (primary first) and the validated objects (remembered in `memo` when given). */
export function planMount(parsed: ParsedMountRequest, primaryRegion: string, memo?: ValidatedObjectsMemo): MountPlan {
  const regions = resolveRegions(primaryRegion, parsed.failoverRegionParam);
  const validate = memo !== undefined ? (o: ValidateObjectsOptions) => memo.validate(o) : validateObjects;
  const objects = validate({
    objectsText: parsed.objectsText,
    pathTranslation: parsed.pathTranslation,
    regions: { primary: regions[0], failover: regions[1] },
  });
  return {
    pod: parsed.pod,
    regions,
    authMode: parsed.authMode,
    preferredAddressType: parsed.preferredAddressType,
    pathTranslation: parsed.pathTranslation,
    objects,
    defaultMode: parsed.defaultMode,
  };
}

/** The identity fetches run as: the pod's token for its auth mode's audience. */
export function identityFor(parsed: ParsedMountRequest): AwsIdentity {
  return {
    mode: parsed.authMode,
    namespace: parsed.pod.namespace,
    serviceAccount: parsed.pod.serviceAccount,
    podUid: parsed.pod.uid,
    token: tokenForMode(parsed.tokens, parsed.authMode),
    preferredAddressType: parsed.preferredAddressType,
  };
}
