/**
 * A small structural check of an object against a CRD openAPIV3Schema, covering what the API
 * server would do to the fixtures: type mismatches are rejected, and fields the schema does not
 * declare are pruned (silently lost), which for a user is just as broken, so both are reported.
 * Not a full OpenAPI validator: formats, enums and x-kubernetes extensions are out of scope.
 */

export interface Schema {
  type?: 'object' | 'array' | 'string' | 'boolean' | 'integer' | 'number';
  properties?: Record<string, Schema>;
  additionalProperties?: Schema | boolean;
  items?: Schema;
  'x-kubernetes-preserve-unknown-fields'?: boolean;
}

function typeOf(value: unknown): string {
  if (Array.isArray(value)) return 'array';
  if (value === null) return 'null';
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number';
  return typeof value;
}

/** Problems found, as `path: message`; empty when the object would be stored unchanged. */
export function checkStructural(value: unknown, schema: Schema, path = ''): string[] {
  const actual = typeOf(value);
  if (schema.type !== undefined) {
    const ok = actual === schema.type || (schema.type === 'number' && actual === 'integer');
    if (!ok) return [`${path || '<root>'}: expected ${schema.type}, got ${actual}`];
  }
  if (schema.type === 'array' && schema.items) {
    return (value as unknown[]).flatMap((item, i) => checkStructural(item, schema.items!, `${path}[${i}]`));
  }
  if (schema.type !== 'object' || schema['x-kubernetes-preserve-unknown-fields']) return [];
  const problems: string[] = [];
  for (const [key, child] of Object.entries(value as Record<string, unknown>)) {
    const childPath = path ? `${path}.${key}` : key;
    const declared = schema.properties?.[key];
    if (declared) problems.push(...checkStructural(child, declared, childPath));
    else if (typeof schema.additionalProperties === 'object') problems.push(...checkStructural(child, schema.additionalProperties, childPath));
    else if (schema.properties !== undefined || schema.additionalProperties === false) problems.push(`${childPath}: unknown field (pruned by the API server)`);
    // An object with neither properties nor additionalProperties (metadata) is checked by the server itself.
  }
  return problems;
}
