/**
 * File names under the mount (aws-provider.md §7) and the rules that keep them inside it.
 *
 * ASCP only rejects `../` sequences in the main object's name; a `..`, `.`, `a//b` or a JMES alias
 * such as `../x` passes its check and then fails (or worse) at write time. Secretlet refuses, for
 * every file a mount would write, any name that is not a clean relative path inside the mount:
 * empty, absolute, `.`/`..` elements, empty elements (`a//b`, `a/`), a first element starting with
 * `..` (reserved for the atomic writer's `..data`), NUL bytes, elements over 255 bytes or paths
 * over 4096 bytes (the driver's own limits).
 */
import type { PathTranslation } from '../model.js';

/** `objectAlias` if set, else `objectName`, then `/` replaced (or, with translation off, leading `/` stripped). */
export function fileNameFor(name: string, translation: PathTranslation): string {
  if (translation.kind === 'none') return name.replace(/^\/+/, '');
  return name.replaceAll('/', translation.char);
}

const ASCP_TRAVERSAL = /(\/\.\.\/)|(^\.\.\/)|(\/\.\.$)/;

/** ASCP's own check (§6.1 step 4), kept for its exact text and order. */
export function hasAscpTraversal(fileName: string): boolean {
  return ASCP_TRAVERSAL.test(fileName);
}

const MAX_ELEMENT_BYTES = 255;
const MAX_PATH_BYTES = 4096;

/** Why a file name would not stay a clean path inside the mount, or undefined when it does. */
export function unsafeFileNameProblem(fileName: string): string | undefined {
  if (fileName === '') return 'is empty';
  if (fileName.includes('\0')) return 'contains a NUL byte';
  if (fileName.startsWith('/')) return 'is absolute';
  const encoder = new TextEncoder();
  if (encoder.encode(fileName).length > MAX_PATH_BYTES) return `is longer than ${MAX_PATH_BYTES} bytes`;
  const elements = fileName.split('/');
  for (const element of elements) {
    if (element === '') return 'has an empty path element';
    if (element === '.' || element === '..') return `has a '${element}' path element`;
    if (encoder.encode(element).length > MAX_ELEMENT_BYTES) return `has a path element longer than ${MAX_ELEMENT_BYTES} bytes`;
  }
  if ((elements[0] ?? '').startsWith('..')) return "starts with '..' (reserved for the atomic writer)";
  return undefined;
}
