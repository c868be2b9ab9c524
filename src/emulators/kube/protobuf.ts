/**
 * Decoding of the Kubernetes protobuf request encoding, for the few kinds kubectl sends that way:
 * its generator commands (`kubectl create serviceaccount|secret generic|namespace|token`) use
 * typed clients whose bodies are `application/vnd.kubernetes.protobuf`. Responses are always JSON
 * (every client also accepts it). Each kind is described by a table of its proto field numbers,
 * from k8s.io/api generated.proto; fields not listed are skipped.
 */
import { badRequest, unsupportedMediaType } from './status.js';

type Field =
  | { name: string; kind: 'string' | 'bytes' | 'int' | 'bool' | 'time'; repeated?: boolean }
  | { name: string; kind: 'message'; schema: Schema; repeated?: boolean }
  | { name: string; kind: 'map'; value: 'string' | 'bytes' };
type Schema = Record<number, Field>;

const TIME: Schema = { 1: { name: 'seconds', kind: 'int' }, 2: { name: 'nanos', kind: 'int' } };
const OWNER_REFERENCE: Schema = {
  1: { name: 'kind', kind: 'string' },
  3: { name: 'name', kind: 'string' },
  4: { name: 'uid', kind: 'string' },
  5: { name: 'apiVersion', kind: 'string' },
  6: { name: 'controller', kind: 'bool' },
  7: { name: 'blockOwnerDeletion', kind: 'bool' },
};
const OBJECT_META: Schema = {
  1: { name: 'name', kind: 'string' },
  2: { name: 'generateName', kind: 'string' },
  3: { name: 'namespace', kind: 'string' },
  5: { name: 'uid', kind: 'string' },
  6: { name: 'resourceVersion', kind: 'string' },
  7: { name: 'generation', kind: 'int' },
  11: { name: 'labels', kind: 'map', value: 'string' },
  12: { name: 'annotations', kind: 'map', value: 'string' },
  13: { name: 'ownerReferences', kind: 'message', schema: OWNER_REFERENCE, repeated: true },
  14: { name: 'finalizers', kind: 'string', repeated: true },
};
const OBJECT_REFERENCE: Schema = {
  1: { name: 'kind', kind: 'string' },
  2: { name: 'namespace', kind: 'string' },
  3: { name: 'name', kind: 'string' },
  4: { name: 'uid', kind: 'string' },
  5: { name: 'apiVersion', kind: 'string' },
};
const meta: Field = { name: 'metadata', kind: 'message', schema: OBJECT_META };

const KINDS: Record<string, Schema> = {
  'v1/Secret': {
    1: meta,
    2: { name: 'data', kind: 'map', value: 'bytes' },
    3: { name: 'type', kind: 'string' },
    4: { name: 'stringData', kind: 'map', value: 'string' },
    5: { name: 'immutable', kind: 'bool' },
  },
  'v1/ServiceAccount': {
    1: meta,
    2: { name: 'secrets', kind: 'message', schema: OBJECT_REFERENCE, repeated: true },
    3: { name: 'imagePullSecrets', kind: 'message', schema: { 1: { name: 'name', kind: 'string' } }, repeated: true },
    4: { name: 'automountServiceAccountToken', kind: 'bool' },
  },
  'v1/Namespace': {
    1: meta,
    2: { name: 'spec', kind: 'message', schema: { 1: { name: 'finalizers', kind: 'string', repeated: true } } },
  },
  'authentication.k8s.io/v1/TokenRequest': {
    1: meta,
    2: {
      name: 'spec',
      kind: 'message',
      schema: {
        1: { name: 'audiences', kind: 'string', repeated: true },
        3: { name: 'boundObjectRef', kind: 'message', schema: { 1: { name: 'kind', kind: 'string' }, 2: { name: 'apiVersion', kind: 'string' }, 3: { name: 'name', kind: 'string' }, 4: { name: 'uid', kind: 'string' } } },
        4: { name: 'expirationSeconds', kind: 'int' },
      },
    },
  },
};

class Reader {
  readonly #buf: Buffer;
  #pos: number;
  readonly #end: number;
  constructor(buf: Buffer, start = 0, end = buf.length) {
    this.#buf = buf;
    this.#pos = start;
    this.#end = end;
  }
  done(): boolean {
    return this.#pos >= this.#end;
  }
  varint(): number {
    let result = 0;
    let shift = 0;
    for (;;) {
      if (this.#pos >= this.#end) throw badRequest('protobuf body is truncated');
      const byte = this.#buf[this.#pos++] ?? 0;
      result += (byte & 0x7f) * 2 ** shift;
      if ((byte & 0x80) === 0) return result;
      shift += 7;
    }
  }
  bytes(): Buffer {
    const length = this.varint();
    if (this.#pos + length > this.#end) throw badRequest('protobuf body is truncated');
    const out = this.#buf.subarray(this.#pos, this.#pos + length);
    this.#pos += length;
    return out;
  }
  skip(wireType: number): void {
    if (wireType === 0) this.varint();
    else if (wireType === 2) this.bytes();
    else if (wireType === 1) this.#pos += 8;
    else if (wireType === 5) this.#pos += 4;
    else throw badRequest(`protobuf body has an unsupported wire type ${wireType}`);
  }
}

function decodeScalar(field: Field, reader: Reader): unknown {
  switch (field.kind) {
    case 'string':
      return reader.bytes().toString('utf8');
    case 'bytes':
      return reader.bytes().toString('base64');
    case 'int':
      return reader.varint();
    case 'bool':
      return reader.varint() !== 0;
    case 'time': {
      const t = decodeMessage(reader.bytes(), TIME) as { seconds?: number };
      return new Date((t.seconds ?? 0) * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
    }
    case 'message':
      return decodeMessage(reader.bytes(), field.schema);
    case 'map': {
      const entry = decodeMessage(reader.bytes(), { 1: { name: 'key', kind: 'string' }, 2: { name: 'value', kind: field.value } }) as { key?: string; value?: unknown };
      return [entry.key ?? '', entry.value ?? (field.value === 'bytes' ? '' : '')];
    }
  }
}

function decodeMessage(buf: Buffer, schema: Schema): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const reader = new Reader(buf);
  while (!reader.done()) {
    const key = reader.varint();
    const fieldNumber = Math.floor(key / 8);
    const field = schema[fieldNumber];
    if (field === undefined) {
      reader.skip(key & 7);
      continue;
    }
    const value = decodeScalar(field, reader);
    if (field.kind === 'map') {
      const [k, v] = value as [string, unknown];
      out[field.name] = { ...((out[field.name] as Record<string, unknown> | undefined) ?? {}), [k]: v };
    } else if ('repeated' in field && field.repeated === true) {
      out[field.name] = [...((out[field.name] as unknown[] | undefined) ?? []), value];
    } else if ((field.kind === 'string' && value === '') || (field.kind === 'int' && value === 0)) {
      // Protobuf always carries non-pointer scalars; JSON (what the server stores and serves) omits empty ones.
      delete out[field.name];
    } else out[field.name] = value;
  }
  return out;
}

const MAGIC = Buffer.from([0x6b, 0x38, 0x73, 0x00]); // "k8s\0"

/** The JSON form of a protobuf-encoded request body (`k8s\0` + runtime.Unknown envelope). */
export function decodeKubeProtobuf(body: Buffer): unknown {
  if (body.length === 0) return undefined;
  if (!body.subarray(0, 4).equals(MAGIC)) throw badRequest('protobuf body lacks the k8s envelope');
  const envelope = decodeMessage(body.subarray(4), {
    1: { name: 'typeMeta', kind: 'message', schema: { 1: { name: 'apiVersion', kind: 'string' }, 2: { name: 'kind', kind: 'string' } } },
    2: { name: 'raw', kind: 'bytes' },
  }) as { typeMeta?: { apiVersion?: string; kind?: string }; raw?: string };
  const apiVersion = envelope.typeMeta?.apiVersion ?? '';
  const kind = envelope.typeMeta?.kind ?? '';
  const schema = KINDS[`${apiVersion}/${kind}`];
  if (schema === undefined) throw unsupportedMediaType(`application/vnd.kubernetes.protobuf for ${apiVersion} ${kind}; send JSON`);
  return { apiVersion, kind, ...decodeMessage(Buffer.from(envelope.raw ?? '', 'base64'), schema) };
}
