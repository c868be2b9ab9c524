/**
 * Turns fetched values into the mount's payload: one file per object plus one per JMES entry,
 * with their modes (aws-provider.md §13.1), and the ObjectVersion list the driver stores.
 *
 * Modes: the JMES entry's `filePermission`, else the object's, else the request's default; only
 * the 0777 bits are kept (setuid/setgid/sticky never reach a file, in either write mode).
 * Versions: exactly one per file of this mount (JMES files carry their parent's version), sorted by
 * id; unlike ASCP no stale ids from earlier mounts are echoed back.
 */
import { SecretletError } from '../errors.js';
import type { FetchedObject, MountPlan, ObjectDescriptor, ObjectVersion, RenderedFile } from '../model.js';
import { fileNameFor } from '../spc/file-name.js';
import { compareIds } from './go-order.js';
import { extractJmes } from './jmes.js';

export interface RenderedPayload {
  files: RenderedFile[];
  versions: ObjectVersion[];
}

const PERMISSION_BITS = 0o777;

function modeOf(filePermission: string, fallback: number): number {
  return (filePermission === '' ? fallback : parseInt(filePermission, 8)) & PERMISSION_BITS;
}


function renderObject(plan: MountPlan, d: ObjectDescriptor, fetched: FetchedObject): RenderedFile[] {
  const objectMode = modeOf(d.filePermission, plan.defaultMode);
  const extracted = extractJmes({ objectIndex: d.index, objectName: d.objectName, value: fetched.bytes, entries: d.jmesPath });
  const encoder = new TextEncoder();
  return [
    { path: d.fileName, mode: objectMode, contents: fetched.bytes },
    ...d.jmesPath.map((entry, k) => ({
      path: fileNameFor(entry.objectAlias, plan.pathTranslation),
      mode: modeOf(entry.filePermission, objectMode),
      contents: encoder.encode(extracted[k] ?? ''),
    })),
  ];
}

/** Renders every object of the plan; `values` must hold a value for each object index. */
export function renderFiles(plan: MountPlan, values: ReadonlyMap<number, FetchedObject>): RenderedPayload {
  const files: RenderedFile[] = [];
  const versions = new Map<string, string>();
  for (const d of plan.objects) {
    const fetched = values.get(d.index);
    if (fetched === undefined) {
      throw new SecretletError({ code: 'INTERNAL', reason: 'MissingValue', field: `objects[${d.index}]`, message: `no value was fetched for ${d.objectName} (objects[${d.index}])` });
    }
    for (const file of renderObject(plan, d, fetched)) {
      files.push(file);
      versions.set(file.path, fetched.version);
    }
  }
  const sorted = [...versions].map(([id, version]) => ({ id, version })).sort((a, b) => compareIds(a.id, b.id));
  return { files, versions: sorted };
}
