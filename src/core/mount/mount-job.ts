/**
 * Fetches every object of a validated MountPlan (`fetchMountValues`) and, for callers that render
 * on this thread, renders the payload too (`runMountJob`); writes nothing. The fetch is split from
 * the render so the render can run in the worker pool while the fetch stays on the main thread.
 *
 * Differences from ASCP, on purpose (aws-provider.md §11.1, §15 items 1–2):
 * - all objects go to the primary region in ONE `source.fetch` call (the adapter batches and
 *   coalesces), instead of one call per secret / per 10 parameters;
 * - the failover region is asked only for objects that failed in the primary with a fault ASCP
 *   does not treat as fatal (`fallsOver`: a server fault, or an access denial, which ASCP's SDK does
 *   not model and so fails over on), and only if there is one; ASCP calls it for every object even
 *   after a primary success;
 * - the other client faults (not found, decryption failure, bad input, unauthenticated) are fatal
 *   at once, as ASCP's modeled errors are;
 * - a value whose JMESPath entries do not extract (not JSON, a path that selects nothing or not a
 *   string) falls over too, as in ASCP, which extracts per region and counts the failure as
 *   non-fatal (aws-provider.md §11.1-§11.3). Only with a failover region is JMES evaluated here;
 *   without one the render reports it. ASCP drops a whole SSM batch of that region for one such
 *   parameter; here only that object is asked again;
 * - the mount fails with the first failing object's real cause, naming the object and the region,
 *   instead of "Failed to fetch secret from all regions". "First" is in object order among the
 *   final outcomes known: a fatal client fault anywhere fails the mount at once, without contacting
 *   the failover region for other objects that would only have been retried there.
 */
import { SecretletError, asSecretletError } from '../errors.js';
import type { StatusCode } from '../errors.js';
import type { AwsIdentity, FetchedObject, MountPlan, ObjectDescriptor, ObjectVersion, RenderedFile } from '../model.js';
import type { SecretSource } from '../ports/secret-source.js';
import type { Result } from '../result.js';
import { JMES_PATH_FAILED, extractJmes } from '../render/jmes.js';
import { renderFiles } from '../render/render-files.js';
import { objectRequestFor } from './object-requests.js';
import { ATTR_SERVICE_ACCOUNT_NAME } from '../spc/attributes.js';

export interface MountJobDeps {
  source: SecretSource;
  identity: AwsIdentity;
  /** When the mount request arrived (the source's clock): see FetchOptions.notBefore. */
  notBefore?: number;
}

export interface FetchedFrom {
  index: number;
  region: string;
  version: string;
}

/** Every object's value keyed by its index in the plan, and where each came from (in index order). */
export interface FetchedValues {
  values: Map<number, FetchedObject>;
  fetched: FetchedFrom[];
}

export interface MountJobOutcome {
  files: RenderedFile[];
  versions: ObjectVersion[];
  fetched: FetchedFrom[];
}

const SERVER_FAULTS: ReadonlySet<StatusCode> = new Set(['UNAVAILABLE', 'DEADLINE_EXCEEDED', 'INTERNAL', 'RESOURCE_EXHAUSTED']);

/**
 * Whether an object that failed in the primary region is asked for in the failover region: after a
 * server fault, and after an access denial (AccessDeniedException, STS AccessDenied, KMS access
 * denied), which ASCP counts as non-fatal because its SDK does not model them (aws-provider.md
 * §11.1): a policy or key policy scoped to the primary region must not stop a mount the failover
 * region can serve.
 */
export function fallsOver(error: SecretletError): boolean {
  return SERVER_FAULTS.has(error.code) || (error.code === 'PERMISSION_DENIED' && error.reason === 'AccessDenied') || error.reason === JMES_PATH_FAILED;
}

type Outcome = Result<FetchedObject, SecretletError>;

/**
 * A fetched value whose JMESPath entries do not extract, as the failure it is in ASCP (one that
 * falls over); any other outcome unchanged. For callers that have a failover region to ask.
 */
export function withJmesChecked(d: ObjectDescriptor, outcome: Outcome): Outcome {
  if (!outcome.ok || d.jmesPath.length === 0) return outcome;
  try {
    extractJmes({ objectIndex: d.index, objectName: d.objectName, value: outcome.value.bytes, entries: d.jmesPath });
    return outcome;
  } catch (e) {
    return { ok: false, error: asSecretletError(e, { code: 'INVALID_ARGUMENT', reason: JMES_PATH_FAILED }) };
  }
}

/** One call for a group of objects in one region; a thrown failure counts for every object. */
async function fetchGroup(deps: MountJobDeps, region: string, objects: readonly ObjectDescriptor[], useFailover: boolean): Promise<Outcome[]> {
  const requests = objects.map((d) => objectRequestFor(d, useFailover));
  let results: Outcome[];
  try {
    results = await deps.source.fetch(deps.identity, region, requests, deps.notBefore === undefined ? {} : { notBefore: deps.notBefore });
  } catch (e) {
    const error = asSecretletError(e, { code: 'INTERNAL', reason: 'SourceFailed' });
    return objects.map(() => ({ ok: false, error }));
  }
  if (results.length !== requests.length) {
    const error = new SecretletError({
      code: 'INTERNAL',
      reason: 'SourceContractViolation',
      message: `secret source returned ${results.length} results for ${requests.length} requests in ${region}`,
    });
    return objects.map(() => ({ ok: false, error }));
  }
  return results;
}

function fetchError(d: ObjectDescriptor, attempts: ReadonlyArray<{ region: string; error: SecretletError }>): SecretletError {
  const last = attempts[attempts.length - 1];
  if (last === undefined) throw new Error('fetchError needs at least one attempt');
  const where = `objects[${d.index}]`;
  const causes = attempts.map((a) => `${a.region}: ${a.error.message}`).join('; failover ');
  // The pod's identity failed (no role on its service account, a refused or expired token): no
  // object is at fault. Worded as ASCP's credential step words it, `<region>: <error>`.
  if (last.error.field === ATTR_SERVICE_ACCOUNT_NAME) {
    return new SecretletError({ code: last.error.code, reason: last.error.reason, field: last.error.field, message: causes, cause: last.error });
  }
  return new SecretletError({
    code: last.error.code,
    reason: last.error.reason,
    field: `${where}.objectName`,
    message: `failed to fetch ${d.objectName} (${where}) from ${causes}`,
    cause: last.error,
  });
}

/** Fetches every object of the plan with the failover rules above; fails with the first failing object. */
export async function fetchMountValues(plan: MountPlan, deps: MountJobDeps): Promise<FetchedValues> {
  const [primary, failover] = plan.regions;
  if (primary === undefined) throw new SecretletError({ code: 'INTERNAL', reason: 'NoRegion', message: 'mount plan has no region' });
  const values = new Map<number, FetchedObject>();
  const fetched: FetchedFrom[] = [];
  const primaryResults = plan.objects.length === 0 ? [] : await fetchGroup(deps, primary, plan.objects, false);

  const retry: Array<{ d: ObjectDescriptor; error: SecretletError }> = [];
  for (const [i, d] of plan.objects.entries()) {
    const answer = primaryResults[i];
    if (answer === undefined) continue;
    const r = failover === undefined ? answer : withJmesChecked(d, answer);
    if (r.ok) {
      values.set(d.index, r.value);
      fetched.push({ index: d.index, region: primary, version: r.value.version });
    } else if (failover !== undefined && fallsOver(r.error)) {
      retry.push({ d, error: r.error });
    } else {
      // Fatal client faults end here; with no failover region every fault is final.
      throw fetchError(d, [{ region: primary, error: r.error }]);
    }
  }

  if (retry.length > 0 && failover !== undefined) {
    const failoverResults = await fetchGroup(deps, failover, retry.map((x) => x.d), true);
    for (const [i, { d, error }] of retry.entries()) {
      const answer = failoverResults[i];
      if (answer === undefined) continue;
      const r = withJmesChecked(d, answer);
      if (!r.ok) throw fetchError(d, [{ region: primary, error }, { region: failover, error: r.error }]);
      values.set(d.index, r.value);
      fetched.push({ index: d.index, region: failover, version: r.value.version });
    }
  }

  fetched.sort((a, b) => a.index - b.index);
  return { values, fetched };
}

/** Fetch and render on this thread. */
export async function runMountJob(plan: MountPlan, deps: MountJobDeps): Promise<MountJobOutcome> {
  const { values, fetched } = await fetchMountValues(plan, deps);
  const { files, versions } = renderFiles(plan, values);
  return { files, versions, fetched };
}
