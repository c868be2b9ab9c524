import { EventEmitter } from 'node:events';
import type { Deadline } from '@grpc/grpc-js';
import { describe, expect, it } from 'vitest';
import { DEADLINE_SLACK_MS, followCall } from './call-signal.js';
import type { CancellableCall } from './call-signal.js';

/** A call whose cancellation the test triggers; `cancelled` mirrors grpc-js's flag. */
class FakeCall extends EventEmitter implements CancellableCall {
  cancelled = false;
  readonly #deadline: Deadline;

  constructor(deadline: Deadline) {
    super();
    this.#deadline = deadline;
  }

  getDeadline(): Deadline {
    return this.#deadline;
  }

  cancel(): void {
    this.cancelled = true;
    this.emit('cancelled', 'cancelled');
  }
}

describe('followCall', () => {
  it('aborts with CANCELLED when a call without deadline is cancelled', () => {
    const call = new FakeCall(Infinity);
    const { signal } = followCall(call, () => 1_000);
    expect(signal.aborted).toBe(false);
    call.cancel();
    expect(signal.reason).toMatchObject({ code: 'CANCELLED', reason: 'Cancelled' });
  });

  it('aborts with DEADLINE_EXCEEDED when the call ends at or after its deadline', () => {
    const call = new FakeCall(new Date(5_000));
    const { signal } = followCall(call, () => 5_000);
    call.cancel();
    expect(signal.reason).toMatchObject({ code: 'DEADLINE_EXCEEDED', reason: 'DeadlineExceeded' });
  });

  it("treats a cancel arriving just before the deadline as the caller's deadline", () => {
    const call = new FakeCall(5_000);
    const { signal } = followCall(call, () => 5_000 - DEADLINE_SLACK_MS);
    call.cancel();
    expect(signal.reason).toMatchObject({ code: 'DEADLINE_EXCEEDED' });
  });

  it('treats a cancel well before the deadline as a cancel', () => {
    const call = new FakeCall(60_000);
    const { signal } = followCall(call, () => 5_000);
    call.cancel();
    expect(signal.reason).toMatchObject({ code: 'CANCELLED' });
  });

  it('starts aborted when the call was cancelled before the handler ran', () => {
    const call = new FakeCall(Infinity);
    call.cancelled = true;
    expect(followCall(call).signal.aborted).toBe(true);
  });

  it('no longer aborts once released (grpc-js emits cancelled on the close after a reply)', () => {
    const call = new FakeCall(Infinity);
    const { signal, release } = followCall(call);
    release();
    call.cancel();
    expect(signal.aborted).toBe(false);
  });
});
