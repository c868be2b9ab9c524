/**
 * A failed first mount whose rollback failed too. Kubelet, the metric and the pod's event must see
 * why the publish failed (a busy unmount says nothing about the missing secret behind it), so code,
 * reason, field and message stay the publish's own; the rollback's failure rides along for the log.
 */
import { SecretletError } from '../errors.js';

class PublishNotRolledBack extends SecretletError {
  /** The rollback's error message: a path and an errno text, never a secret value. */
  readonly rollbackError: string;

  constructor(error: SecretletError, rollback: unknown) {
    super({ code: error.code, reason: error.reason, message: error.message, cause: error, ...(error.field === undefined ? {} : { field: error.field }) });
    this.rollbackError = rollback instanceof Error ? rollback.message : String(rollback);
  }
}

export function withRollbackFailure(error: SecretletError, rollback: unknown): SecretletError {
  return new PublishNotRolledBack(error, rollback);
}

/** The rollback failure attached to a publish error, if any. */
export function rollbackFailureOf(e: unknown): string | undefined {
  return e instanceof PublishNotRolledBack ? e.rollbackError : undefined;
}
