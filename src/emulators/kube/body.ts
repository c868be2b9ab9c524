/**
 * Request bodies: JSON for ordinary writes, YAML for server-side apply (`application/apply-patch+yaml`,
 * which kubectl sends as JSON, itself valid YAML), and protobuf for the typed requests of kubectl's
 * generator commands. A body that does not parse is a 400, as on a real API server.
 */
import { parse as parseYaml } from 'yaml';
import { MAX_YAML_DEPTH, yamlNestingDepth } from '../../core/spc/yaml-depth.js';
import { decodeKubeProtobuf } from './protobuf.js';
import { badRequest } from './status.js';

/** The media type without parameters, lower-cased (`application/json; charset=utf-8` → `application/json`). */
export function mediaType(contentType: string | undefined): string {
  return (contentType ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
}

/**
 * How deep a JSON body may nest arrays and objects. A real API server's decoder allows 10,000
 * levels; past about 2,000 the emulator's own recursive code (structured clones, patches, pruning,
 * serialising for a watch) overflows the stack and a create or patch answered 500. Kubernetes
 * objects nest a few dozen levels at most (a CRD schema under a handful of maps).
 */
export const MAX_JSON_DEPTH = 1000;

/**
 * The deepest nesting of arrays and objects in a JSON text, read up to `limit + 1`, counted without
 * recursion (it runs before anything recursive sees the body). Brackets inside strings do not
 * count; a backslash escapes the next character, so `"\""` stays one string.
 */
export function jsonNestingDepth(text: string, limit = MAX_JSON_DEPTH): number {
  let depth = 0;
  let deepest = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++;
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) {
      depth++;
      if (depth > deepest) deepest = depth;
      if (deepest > limit) return deepest;
    } else if (c === 0x5d || c === 0x7d) depth--;
  }
  return deepest;
}

export function parseBody(raw: Buffer, contentType: string): unknown {
  if (contentType === 'application/vnd.kubernetes.protobuf') return decodeKubeProtobuf(raw);
  const text = raw.toString('utf8');
  if (text.trim() === '') return undefined;
  // A real API server refuses YAML nested past 10,000 levels; this one refuses far less, before the
  // yaml package's recursive composer could overflow the stack (and take the emulator down).
  if (contentType.includes('yaml') && yamlNestingDepth(text) > MAX_YAML_DEPTH) {
    throw badRequest(`the request body could not be decoded: yaml: exceeded max depth of ${MAX_YAML_DEPTH}`);
  }
  if (!contentType.includes('yaml') && jsonNestingDepth(text) > MAX_JSON_DEPTH) {
    throw badRequest(`the request body could not be decoded: json: exceeded max depth of ${MAX_JSON_DEPTH}`);
  }
  try {
    return contentType.includes('yaml') ? (parseYaml(text) as unknown) : (JSON.parse(text) as unknown);
  } catch (err) {
    throw badRequest(`the request body could not be decoded: ${err instanceof Error ? err.message.split('\n')[0] : 'parse error'}`);
  }
}
