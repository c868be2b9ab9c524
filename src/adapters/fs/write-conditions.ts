/**
 * The start-of-write check every payload writer makes (WriteConditions): run right before the
 * write touches the target, after any wait for the target's lock or a pool thread.
 */
import type { WriteConditions, WriteOutcome } from '../../core/ports/payload-writer.js';
import { sameTargetDirectory, targetStamp } from './target-stamp.js';

/** The outcome of a write its conditions stop, or undefined when it may start. */
export function refusedStart(targetDir: string, conditions: WriteConditions | undefined): WriteOutcome | undefined {
  if (conditions === undefined) return undefined;
  if (conditions.signal?.aborted === true) return { changed: false, skipped: 'abandoned' };
  if (conditions.directory !== undefined && !sameTargetDirectory(conditions.directory, targetStamp(targetDir))) {
    return { changed: false, skipped: 'target-gone' };
  }
  return undefined;
}
