/**
 * Loads the .proto files that ship next to this module (proto/csi.proto, proto/provider.proto) with
 * the one set of proto-loader options every server and client of secretlet uses. Field names stay
 * snake_case (keepCase) so the wire types in wire-types.ts read like the proto; 64-bit integers and
 * enums become strings so nothing silently loses precision or depends on numeric enum values.
 */
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';

export type ProtoFile = 'csi' | 'provider';

const LOADER_OPTIONS: Readonly<protoLoader.Options> = Object.freeze({
  keepCase: true,
  longs: String,
  enums: String,
  defaults: true,
  oneofs: true,
});

/** Parses one of our proto files. Called once per server or client; nothing is cached at module level. */
export function loadProtoPackage(file: ProtoFile): grpc.GrpcObject {
  const path = fileURLToPath(new URL(`./proto/${file}.proto`, import.meta.url));
  return grpc.loadPackageDefinition(protoLoader.loadSync(path, { ...LOADER_OPTIONS }));
}

/** Looks up a service by its full proto name, e.g. `csi.v1.Node`; throws if the name is not a service. */
export function serviceConstructor(root: grpc.GrpcObject, fullName: string): grpc.ServiceClientConstructor {
  let node: unknown = root;
  for (const part of fullName.split('.')) {
    node = typeof node === 'function' || (typeof node === 'object' && node !== null) ? (node as Record<string, unknown>)[part] : undefined;
  }
  if (typeof node !== 'function' || !('service' in node)) {
    throw new TypeError(`${fullName} is not a service of the loaded proto package`);
  }
  return node as grpc.ServiceClientConstructor;
}
