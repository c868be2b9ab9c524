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

export function parseBody(raw: Buffer, contentType: string): unknown {
  if (contentType === 'application/vnd.kubernetes.protobuf') return decodeKubeProtobuf(raw);
  const text = raw.toString('utf8');
  if (text.trim() === '') return undefined;
  // A real API server refuses YAML nested past 10,000 levels; this one refuses far less, before the
  // yaml package's recursive composer could overflow the stack (and take the emulator down).
  if (contentType.includes('yaml') && yamlNestingDepth(text) > MAX_YAML_DEPTH) {
    throw badRequest(`the request body could not be decoded: yaml: exceeded max depth of ${MAX_YAML_DEPTH}`);
  }
  try {
    return contentType.includes('yaml') ? (parseYaml(text) as unknown) : (JSON.parse(text) as unknown);
  } catch (err) {
    throw badRequest(`the request body could not be decoded: ${err instanceof Error ? err.message.split('\n')[0] : 'parse error'}`);
  }
}
