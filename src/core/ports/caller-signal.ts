/**
 * Whether the caller of a use case has given up (kubelet's deadline passed, or it cancelled), and
 * why. The part of an AbortSignal the use cases read, as a plain type so core needs neither gRPC nor
 * DOM typings; a Node AbortSignal satisfies it. Reading it is a property read, cheap enough for every
 * step of a hot path.
 */
export interface CallerSignal {
  readonly aborted: boolean;
  /**
   * Why it aborted. The gRPC door's signal (adapters/grpc/call-signal.ts) gives a SecretletError whose
   * code is DEADLINE_EXCEEDED or CANCELLED; an `AbortSignal.timeout` gives a `TimeoutError`.
   */
  readonly reason: unknown;
}
