/**
 * The emulator validates SecretProviderClass and SecretProviderClassPodStatus bodies against its
 * own copy of their structural schemas (schemas.ts). The CRDs users install are
 * deploy/base/crd-*.yaml: this keeps the two equal, field by field and type by type, for every
 * served version, so a CRD change cannot leave the emulator checking an older shape.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { SPCPS_SCHEMA, SPC_SCHEMA } from '../../../src/emulators/kube/schemas.js';
import type { Schema } from '../../../src/emulators/kube/schemas.js';

const ROOT = new URL('../../../', import.meta.url).pathname;

interface OpenApiNode {
  type?: string;
  properties?: Record<string, OpenApiNode>;
  additionalProperties?: OpenApiNode;
  items?: OpenApiNode;
}

/** The CRD's openAPIV3Schema in schemas.ts's shape (descriptions and the like left out). */
function toSchema(node: OpenApiNode): Schema {
  if (node.type === 'object') {
    return {
      type: 'object',
      ...(node.properties === undefined ? {} : { properties: Object.fromEntries(Object.entries(node.properties).map(([k, v]) => [k, toSchema(v)])) }),
      ...(node.additionalProperties === undefined ? {} : { additionalProperties: toSchema(node.additionalProperties) }),
    };
  }
  if (node.type === 'array') return { type: 'array', items: toSchema(node.items ?? {}) };
  return { type: node.type as 'string' | 'boolean' | 'integer' | 'number' };
}

/** metadata is `type: object` in a CRD (the API server owns ObjectMeta); compare the rest. */
function withoutMetadata(schema: Schema): Schema {
  if (schema.type !== 'object' || schema.properties === undefined) return schema;
  const { metadata: _metadata, ...rest } = schema.properties;
  return { ...schema, properties: rest };
}

describe.each([
  ['crd-secretproviderclasses.yaml', SPC_SCHEMA],
  ['crd-secretproviderclasspodstatuses.yaml', SPCPS_SCHEMA],
])('%s', (file, emulated) => {
  const crd = parse(readFileSync(join(ROOT, 'deploy/base', file), 'utf8')) as { spec: { versions: Array<{ name: string; served: boolean; schema: { openAPIV3Schema: OpenApiNode } }> } };

  it.each(crd.spec.versions.filter((v) => v.served).map((v) => [v.name, v] as const))('version %s is the schema the emulator validates with', (_name, version) => {
    expect(withoutMetadata(emulated)).toEqual(withoutMetadata(toSchema(version.schema.openAPIV3Schema)));
  });
});
