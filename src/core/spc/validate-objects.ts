/**
 * Turns the `objects` parameter into validated ObjectDescriptors, before any network call.
 *
 * ASCP's rules run first, in ASCP's order and with ASCP's texts (aws-provider.md §6.1–§6.3), so a
 * user sees the same first error as with the Go provider; every error additionally names the
 * entry and field (`... (objects[2].objectType)`, `field: 'objects[2].objectType'`).
 *
 * Then, per object, secretlet's stricter rules (improvements; ASCP accepts these and fails or
 * overwrites files later):
 * - every file name the object produces (its own and each JMES alias, after translation) must be
 *   a clean relative path inside the mount (see file-name.ts);
 * - no two files of the mount may share a final name (see duplicates.ts).
 * The first error, in list order, aborts the whole list.
 */
import type { ObjectDescriptor, PathTranslation } from '../model.js';
import { DuplicateTracker } from './duplicates.js';
import { fileNameFor, hasAscpTraversal, unsafeFileNameProblem } from './file-name.js';
import { checkObjectName, resolveObjectType } from './object-name.js';
import { objectError } from './object-problem.js';
import type { ObjectProblem } from './object-problem.js';
import { parseObjectsYaml } from './objects-yaml.js';
import type { RawObjectEntry } from './objects-yaml.js';

export interface ObjectRegions {
  /** The primary region; undefined when not known (offline validation): ARN regions are then not checked. */
  primary: string | undefined;
  /** The failover region, undefined when there is none. */
  failover: string | undefined;
}

export interface ValidateObjectsOptions {
  objectsText: string;
  pathTranslation: PathTranslation;
  regions: ObjectRegions;
}

const FILE_PERMISSION = /^[0-7]{4}$/;

function problem(reason: string, message: string, field: string): ObjectProblem {
  return { reason, message, field };
}

/** ASCP `validateSecretDescriptor` (§6.1) for one non-null entry. */
function ascpDescriptorProblem(raw: RawObjectEntry, translation: PathTranslation, regions: ObjectRegions): ObjectProblem | undefined {
  const name = raw.objectName;
  if (name === '') return problem('ObjectNameRequired', 'Object name must be specified', 'objectName');
  const nameProblem = checkObjectName(name, raw.objectType, regions.primary);
  if (nameProblem !== undefined) return nameProblem;
  const type = resolveObjectType(name, raw.objectType);
  if (type === 'ssmparameter' && raw.objectVersion !== '' && raw.objectVersionLabel !== '') {
    return problem('SsmVersionAndLabel', `ssm parameters can not specify both objectVersion and objectVersionLabel: ${name}`, 'objectVersionLabel');
  }
  const nameField = raw.objectAlias !== '' ? 'objectAlias' : 'objectName';
  if (hasAscpTraversal(fileNameFor(raw.objectAlias !== '' ? raw.objectAlias : name, translation))) {
    return problem('PathTraversal', `path can not contain ../: ${name}`, nameField);
  }
  if (raw.filePermission !== '' && !FILE_PERMISSION.test(raw.filePermission)) {
    return problem('InvalidFilePermission', `Invalid File Permission: ${raw.filePermission}`, 'filePermission');
  }
  for (const [k, entry] of raw.jmesPath.entries()) {
    if (entry.path === '') return problem('JmesPathRequired', 'Path must be specified for JMES object', `jmesPath[${k}].path`);
    if (entry.objectAlias === '') {
      return problem('JmesAliasRequired', 'Object alias must be specified for JMES object', `jmesPath[${k}].objectAlias`);
    }
    if (entry.filePermission !== '' && !FILE_PERMISSION.test(entry.filePermission)) {
      return problem('InvalidFilePermission', `Invalid File Permission: ${entry.filePermission}`, `jmesPath[${k}].filePermission`);
    }
  }
  return ascpFailoverProblem(raw, type, regions);
}

/** §6.1 step 7: only when `failoverObject.objectName` is set. */
function ascpFailoverProblem(raw: RawObjectEntry, type: ObjectDescriptor['objectType'], regions: ObjectRegions): ObjectProblem | undefined {
  const failover = raw.failoverObject;
  const name = raw.objectName;
  if (failover.objectName === '') return undefined;
  if (raw.objectAlias === '') {
    return problem('FailoverAliasRequired', `object alias must be specified for objects with failover entries: ${name}`, 'objectAlias');
  }
  if (regions.failover === undefined) {
    return problem('FailoverRegionRequired', `failover object allowed only when failover region is defined: ${name}`, 'failoverObject.objectName');
  }
  // The failover name is checked against the primary's objectType, as ASCP does.
  const failoverProblem = checkObjectName(failover.objectName, raw.objectType, regions.failover);
  if (failoverProblem !== undefined) {
    const field = failoverProblem.field === 'objectName' ? 'failoverObject.objectName' : 'objectType';
    return { ...failoverProblem, field };
  }
  if (type === 'ssmparameter' && failover.objectVersion !== '' && failover.objectVersionLabel !== '') {
    return problem(
      'SsmVersionAndLabel',
      `ssm parameters can not specify both objectVersion and objectVersionLabel: ${name}`,
      'failoverObject.objectVersionLabel',
    );
  }
  if (failover.objectVersion !== raw.objectVersion) {
    return problem('FailoverVersionMismatch', `object versions must match between primary and failover regions: ${name}`, 'failoverObject.objectVersion');
  }
  return undefined;
}

/** Secretlet's file-name containment rule for the object's own file and each JMES file. */
function unsafeNameProblem(raw: RawObjectEntry, fileName: string, jmesFileNames: readonly string[]): ObjectProblem | undefined {
  const own = unsafeFileNameProblem(fileName);
  if (own !== undefined) {
    const field = raw.objectAlias !== '' ? 'objectAlias' : 'objectName';
    return problem('UnsafeFileName', `file name ${JSON.stringify(fileName)} of ${raw.objectName} ${own}`, field);
  }
  for (const [k, jmesName] of jmesFileNames.entries()) {
    const reason = unsafeFileNameProblem(jmesName);
    if (reason !== undefined) {
      return problem('UnsafeFileName', `file name ${JSON.stringify(jmesName)} of JMES path entry ${raw.jmesPath[k]?.path ?? ''} ${reason}`, `jmesPath[${k}].objectAlias`);
    }
  }
  return undefined;
}

function toDescriptor(index: number, raw: RawObjectEntry, fileName: string): ObjectDescriptor {
  const f = raw.failoverObject;
  const hasFailover = f.objectName !== '' || f.objectVersion !== '' || f.objectVersionLabel !== '';
  return {
    index,
    objectName: raw.objectName,
    objectType: resolveObjectType(raw.objectName, raw.objectType),
    objectAlias: raw.objectAlias,
    objectVersion: raw.objectVersion,
    objectVersionLabel: raw.objectVersionLabel,
    filePermission: raw.filePermission,
    jmesPath: raw.jmesPath.map((e) => ({ path: e.path, objectAlias: e.objectAlias, filePermission: e.filePermission })),
    // §6.4: a failoverObject without objectName is not validated, yet its version/label are used.
    failoverObject: hasFailover ? { ...f } : undefined,
    fileName,
  };
}

/** Parses and validates `objects`; throws the first SecretletError in list order. */
export function validateObjects(options: ValidateObjectsOptions): ObjectDescriptor[] {
  const entries = parseObjectsYaml(options.objectsText);
  const tracker = new DuplicateTracker();
  const descriptors: ObjectDescriptor[] = [];
  for (const [index, raw] of entries.entries()) {
    if (raw === null) throw objectError(index, problem('EmptyDescriptor', 'Empty descriptor entry in SecretProviderClass', ''));
    const ascp = ascpDescriptorProblem(raw, options.pathTranslation, options.regions);
    if (ascp !== undefined) throw objectError(index, ascp);
    const fileName = fileNameFor(raw.objectAlias !== '' ? raw.objectAlias : raw.objectName, options.pathTranslation);
    const jmesFileNames = raw.jmesPath.map((e) => fileNameFor(e.objectAlias, options.pathTranslation));
    const candidate = { index, ...raw, fileName, jmesFileNames };
    const found = tracker.checkAscp(candidate) ?? unsafeNameProblem(raw, fileName, jmesFileNames) ?? tracker.checkFiles(candidate);
    if (found !== undefined) throw objectError(index, found);
    descriptors.push(toDescriptor(index, raw, fileName));
  }
  return descriptors;
}

/** Every file a mount of these descriptors writes, in order: each object's file, then its JMES files. */
export function producedFileNames(descriptors: readonly ObjectDescriptor[], translation: PathTranslation): string[] {
  return descriptors.flatMap((d) => [d.fileName, ...d.jmesPath.map((e) => fileNameFor(e.objectAlias, translation))]);
}
