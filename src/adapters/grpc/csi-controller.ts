/**
 * `csi.v1.Controller`, which secretlet (like the upstream driver) registers without implementing:
 * inline ephemeral volumes never reach a controller. Every RPC answers UNIMPLEMENTED with an empty
 * message, except ControllerGetCapabilities, which lists a single RPC capability of type UNKNOWN.
 * The handlers are generated from the loaded service definition so a method added to the proto
 * cannot be left to grpc-js's default answer (which carries a different message).
 */
import * as grpc from '@grpc/grpc-js';
import { fixedStatusHandler, unaryHandler } from './unary-handler.js';
import type { Empty, WireRpcCapabilities } from './wire-types.js';

export function controllerImplementation(definition: grpc.ServiceDefinition): grpc.UntypedServiceImplementation {
  const implementation: grpc.UntypedServiceImplementation = {};
  for (const method of Object.keys(definition)) {
    implementation[method] = fixedStatusHandler({ code: grpc.status.UNIMPLEMENTED, details: '' });
  }
  implementation['ControllerGetCapabilities'] = unaryHandler<Empty, WireRpcCapabilities>(() => ({
    capabilities: [{ rpc: { type: 'UNKNOWN' } }],
  }));
  return implementation;
}
