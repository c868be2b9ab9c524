/**
 * The emulator's IAM: roles with a trust list (which service accounts may assume them through STS),
 * pod identity associations, and read permissions as name/ARN globs. Evaluation answers the same
 * questions real IAM does for our actions, and words denials like IAM does.
 */
import { awsError } from './aws-error.js';
import { sessionArn, type Principal } from './credentials.js';
import type { PodIdentityAssociation, RolePermissions, RoleSpec } from './types.js';
import type { VerifiedToken } from './jwt-verify.js';

/** IAM-style wildcard match: `*` is any run of characters (`/` included), `?` one character. */
export function globMatch(pattern: string, value: string): boolean {
  const source = pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${source}$`).test(value);
}

/** IAM's bounds for a role's MaxSessionDuration; the lower one is also its default. */
const MIN_MAX_SESSION_SECONDS = 3600;
const MAX_MAX_SESSION_SECONDS = 43_200;

function assertSessionLimit(role: RoleSpec): void {
  const max = role.maxSessionDurationSeconds;
  if (max !== undefined && (!Number.isInteger(max) || max < MIN_MAX_SESSION_SECONDS || max > MAX_MAX_SESSION_SECONDS)) {
    throw new Error(`role ${role.roleArn}: maxSessionDurationSeconds must be an integer from ${MIN_MAX_SESSION_SECONDS} to ${MAX_MAX_SESSION_SECONDS} (got ${String(max)})`);
  }
}

function unionOf(a: string[] | undefined, b: string[] | undefined): string[] | undefined {
  return a === undefined && b === undefined ? undefined : [...new Set([...(a ?? []), ...(b ?? [])])];
}

/** Everything either grant allows. */
function mergePermissions(a: RolePermissions, b: RolePermissions): RolePermissions {
  const secrets = unionOf(a.secrets, b.secrets);
  const parameters = unionOf(a.parameters, b.parameters);
  const batch = a.batchGetSecretValue === true || b.batchGetSecretValue === true;
  const list = a.listSecrets === true || b.listSecrets === true;
  return {
    ...(secrets === undefined ? {} : { secrets }),
    ...(parameters === undefined ? {} : { parameters }),
    ...(batch ? { batchGetSecretValue: true } : {}),
    ...(list ? { listSecrets: true } : {}),
  };
}

export class PolicyRegistry {
  readonly #roles = new Map<string, RoleSpec>();
  readonly #associations = new Map<string, PodIdentityAssociation>();

  /** Creates or replaces the role. */
  addRole(role: RoleSpec): void {
    assertSessionLimit(role);
    this.#roles.set(role.roleArn, structuredClone(role));
  }

  /**
   * Creates the role or adds to it: a role several service accounts share trusts them all, and may
   * do what any of their grants asked for (permission globs unioned, flags OR-ed), since IAM gives a
   * role one policy, not one per caller. The existing session limit stays unless this one sets it.
   */
  mergeRole(role: RoleSpec): void {
    const existing = this.#roles.get(role.roleArn);
    if (existing === undefined) {
      this.addRole(role);
      return;
    }
    assertSessionLimit(role);
    const merged = structuredClone(existing);
    for (const t of role.trust) {
      const known = merged.trust.some((m) => m.namespace === t.namespace && m.serviceAccount === t.serviceAccount && m.issuer === t.issuer);
      if (!known) merged.trust.push({ ...t });
    }
    merged.allow = mergePermissions(merged.allow, role.allow);
    if (role.maxSessionDurationSeconds !== undefined) merged.maxSessionDurationSeconds = role.maxSessionDurationSeconds;
    this.#roles.set(role.roleArn, merged);
  }

  /** The role's MaxSessionDuration in seconds (IAM's default: one hour). */
  maxSessionSeconds(role: RoleSpec): number {
    return role.maxSessionDurationSeconds ?? MIN_MAX_SESSION_SECONDS;
  }

  getRole(roleArn: string): RoleSpec | undefined {
    return this.#roles.get(roleArn);
  }

  addPodIdentityAssociation(association: PodIdentityAssociation): void {
    this.#associations.set(`${association.namespace}/${association.serviceAccount}`, { ...association });
  }

  associationFor(namespace: string, serviceAccount: string): PodIdentityAssociation | undefined {
    return this.#associations.get(`${namespace}/${serviceAccount}`);
  }

  /** Whether the role's trust lets this token's service account assume it. */
  trusts(role: RoleSpec, token: VerifiedToken): boolean {
    return role.trust.some(
      (t) =>
        globMatch(t.namespace, token.namespace) &&
        globMatch(t.serviceAccount, token.serviceAccount) &&
        (t.issuer === undefined || t.issuer === token.issuer),
    );
  }

  /** May the principal read a secret known by these identifiers (name and/or ARN)? */
  canReadSecret(principal: Principal, ids: string[]): boolean {
    if (principal.kind === 'admin') return true;
    const patterns = this.#roles.get(principal.roleArn)?.allow.secrets ?? [];
    return patterns.some((p) => ids.some((id) => globMatch(p, id)));
  }

  canReadParameter(principal: Principal, name: string): boolean {
    if (principal.kind === 'admin') return true;
    const patterns = this.#roles.get(principal.roleArn)?.allow.parameters ?? [];
    return patterns.some((p) => globMatch(p, name) || (name.startsWith('/') && globMatch(p, name.slice(1))));
  }

  canBatchGetSecretValue(principal: Principal): boolean {
    return principal.kind === 'admin' || this.#roles.get(principal.roleArn)?.allow.batchGetSecretValue === true;
  }

  canListSecrets(principal: Principal): boolean {
    return principal.kind === 'admin' || this.#roles.get(principal.roleArn)?.allow.listSecrets === true;
  }

  /** Roles only read; writes need the admin credentials. */
  assertAdmin(principal: Principal, action: string, resource: string): void {
    if (principal.kind !== 'admin') throw denied(principal, action, resource);
  }
}

/** AccessDeniedException worded as IAM words it (no secret values; names and ARNs only). */
export function denied(principal: Principal, action: string, resource: string): ReturnType<typeof awsError> {
  const who = principal.kind === 'admin' ? 'admin' : sessionArn(principal);
  return awsError(
    'AccessDeniedException',
    `User: ${who} is not authorized to perform: ${action} on resource: ${resource} because no identity-based policy allows the ${action} action`,
  );
}
