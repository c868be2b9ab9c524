/**
 * The start-of-write check every payload writer makes (WriteConditions): run right before the
 * write touches the target, after any wait for the target's lock or a pool thread; and the stamp
 * it takes of the target right after writing, still under that lock.
 */
import type { WriteConditions, WriteOutcome } from '../../core/ports/payload-writer.js';
import { sameTargetDirectory, targetStamp } from './target-stamp.js';

/** The outcome of a write its conditions stop, or undefined when it may start. */
function refusedStart(targetDir: string, conditions: WriteConditions | undefined): WriteOutcome | undefined {
  if (conditions === undefined) return undefined;
  if (conditions.signal?.aborted === true) return { changed: false, skipped: 'abandoned' };
  if (conditions.directory !== undefined && !sameTargetDirectory(conditions.directory, targetStamp(targetDir))) {
    return { changed: false, skipped: 'target-gone' };
  }
  return undefined;
}

/**
 * A writer's locked section: the conditions checked first, then the write, then the target's stamp
 * as the write left it (WriteOutcome.stamp). Call it holding the target's lock.
 */
export async function guardedWrite(targetDir: string, conditions: WriteConditions | undefined, write: () => Promise<WriteOutcome>): Promise<WriteOutcome> {
  const refused = refusedStart(targetDir, conditions);
  if (refused !== undefined) return refused;
  const outcome = await write();
  const stamp = targetStamp(targetDir);
  return stamp === undefined ? outcome : { ...outcome, stamp };
}
