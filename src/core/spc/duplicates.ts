/**
 * Duplicate detection across `objects` entries, fed one object at a time in list order.
 *
 * `checkAscp` is ASCP's own logic with its texts (aws-provider.md §6.3): duplicate name/alias/label
 * combinations against the last earlier object of the same name, then duplicate aliases (object and
 * JMES aliases share one namespace).
 *
 * `checkFiles` is secretlet's improvement: ASCP compares raw names, so several objects can silently
 * write the same file (same name with and without a label; `a/b` and `a_b` once translated; a JMES
 * alias equal to another object's name; a JMES alias equal to its own parent's file). Here every
 * file a mount writes is compared by its final name, after path translation.
 */
import type { ObjectProblem } from './object-problem.js';

export interface DuplicateCandidate {
  index: number;
  objectName: string;
  objectAlias: string;
  objectVersionLabel: string;
  jmesPath: ReadonlyArray<{ path: string; objectAlias: string }>;
  /** Final file names: the object's own, then one per JMES entry in order. */
  fileName: string;
  jmesFileNames: readonly string[];
}

interface SeenName {
  alias: string;
  label: string;
}

function duplicateNameProblem(d: DuplicateCandidate, previous: SeenName): ObjectProblem | undefined {
  const hasAlias = d.objectAlias !== '' && previous.alias !== '';
  const noAlias = d.objectAlias === '' && previous.alias === '';
  const hasLabel = d.objectVersionLabel !== '' && previous.label !== '';
  const noLabel = d.objectVersionLabel === '' && previous.label === '';
  const sameAlias = d.objectAlias === previous.alias;
  const sameLabel = d.objectVersionLabel === previous.label;
  const name = d.objectName;
  let message: string | undefined;
  if (hasAlias && noLabel && sameAlias) {
    message = `found descriptor with duplicate object name ${name}, duplicate object alias ${d.objectAlias}, and no version label`;
  } else if (noAlias && hasLabel && sameLabel) {
    message = `found descriptor with duplicate object name ${name}, no object alias, and duplicate version label ${d.objectVersionLabel}`;
  } else if (hasAlias && hasLabel && sameAlias && sameLabel) {
    message = `found descriptor with duplicate object name ${name}, duplicate object alias ${d.objectAlias}, and duplicate version label ${d.objectVersionLabel}`;
  } else if (noAlias && noLabel) {
    message = `found descriptor with duplicate object name ${name}, no object alias, and no version label`;
  }
  return message === undefined ? undefined : { reason: 'DuplicateObject', message, field: 'objectName' };
}

export class DuplicateTracker {
  private readonly seenNames = new Map<string, SeenName>();
  private readonly seenAliases = new Set<string>();
  /** Final file name → the field that first claimed it. */
  private readonly files = new Map<string, string>();
  /** Every directory a file path above runs through (pathTranslation off), with the field that made it. */
  private readonly directories = new Map<string, string>();

  /** ASCP's duplicate checks for one object; records it when it passes. */
  checkAscp(d: DuplicateCandidate): ObjectProblem | undefined {
    const previous = this.seenNames.get(d.objectName);
    if (previous !== undefined) {
      const problem = duplicateNameProblem(d, previous);
      if (problem !== undefined) return problem;
    }
    this.seenNames.set(d.objectName, { alias: d.objectAlias, label: d.objectVersionLabel });
    if (this.seenAliases.has(d.objectAlias)) {
      return { reason: 'DuplicateAlias', message: `found duplicate object alias ${d.objectAlias}`, field: 'objectAlias' };
    }
    if (d.objectAlias !== '') this.seenAliases.add(d.objectAlias);
    for (const [k, entry] of d.jmesPath.entries()) {
      if (this.seenAliases.has(entry.objectAlias)) {
        return {
          reason: 'DuplicateAlias',
          message: `Name already in use for objectAlias: found duplicate object alias ${entry.objectAlias} in JMES path entry ${entry.path}`,
          field: `jmesPath[${k}].objectAlias`,
        };
      }
      this.seenAliases.add(entry.objectAlias);
    }
    return undefined;
  }

  /**
   * Secretlet's check: no two files of the mount may end up with the same final name, and no file
   * may be a directory another file's path runs through (`a/b` and `a/b/c` with pathTranslation
   * off), which no writer can lay out. Found here, before any AWS call, naming the field.
   */
  checkFiles(d: DuplicateCandidate): ObjectProblem | undefined {
    const claims: Array<{ fileName: string; field: string }> = [
      { fileName: d.fileName, field: d.objectAlias !== '' ? 'objectAlias' : 'objectName' },
      ...d.jmesFileNames.map((fileName, k) => ({ fileName, field: `jmesPath[${k}].objectAlias` })),
    ];
    for (const claim of claims) {
      const here = `objects[${d.index}].${claim.field}`;
      const collision = (message: string): ObjectProblem => ({ reason: 'FileNameCollision', message: `file name collision: ${message}`, field: claim.field });
      const owner = this.files.get(claim.fileName);
      if (owner !== undefined) return collision(`${here} and ${owner} both write the file ${claim.fileName}`);
      const through = this.directories.get(claim.fileName);
      if (through !== undefined) return collision(`${here} writes the file ${claim.fileName}, which ${through} needs as a directory`);
      const parents = parentDirectories(claim.fileName);
      for (const parent of parents) {
        const file = this.files.get(parent);
        if (file !== undefined) return collision(`${here} needs ${parent} as a directory, which ${file} writes as a file`);
      }
      this.files.set(claim.fileName, here);
      for (const parent of parents) if (!this.directories.has(parent)) this.directories.set(parent, here);
    }
    return undefined;
  }
}

/** `a/b/c` → `a`, `a/b`: the directories a nested file name runs through. */
function parentDirectories(fileName: string): string[] {
  const parts = fileName.split('/');
  return parts.slice(1).map((_, i) => parts.slice(0, i + 1).join('/'));
}
