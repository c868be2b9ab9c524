/**
 * Pool size 0: runs the worker protocol on the calling thread. Same jobs, same results, same
 * error mapping as the thread pool, without structured clone; used by tests and small nodes.
 */
import type { FetchedObject, MountPlan } from '../core/model.js';
import type { MountWorker, PrepareOutcome } from '../core/ports/mount-worker.js';
import type { RenderedPayload } from '../core/render/render-files.js';
import type { MountRequestInput } from '../core/spc/mount-request.js';
import { createJobHandler } from './handle-job.js';
import { preparedFrom, renderedFrom } from './result-mapping.js';

export class InlineMountWorker implements MountWorker {
  readonly #handleJob = createJobHandler();

  start(): Promise<void> {
    return Promise.resolve();
  }

  prepare(input: MountRequestInput, primaryRegion?: string): Promise<PrepareOutcome> {
    return Promise.resolve().then(() => preparedFrom(this.#handleJob({ type: 'prepare', input, ...(primaryRegion === undefined ? {} : { primaryRegion }) })));
  }

  render(plan: MountPlan, values: ReadonlyMap<number, FetchedObject>): Promise<RenderedPayload> {
    return Promise.resolve().then(() => renderedFrom(this.#handleJob({ type: 'render', plan, values: [...values] })));
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}
