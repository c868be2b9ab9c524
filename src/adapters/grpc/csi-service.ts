/**
 * The CSI door: kubelet (and the registrar and liveness sidecars) talk to secretlet here, on the
 * socket given by `--endpoint`. Registers Identity, Controller and Node on one Unix-socket server;
 * each service lives in its own module, and the handler port and request types in csi-types.ts.
 */
import type { UdsServer } from './uds-server.js';
import { startUdsServer } from './uds-server.js';
import { loadProtoPackage, serviceConstructor } from './proto-packages.js';
import { identityImplementation } from './csi-identity.js';
import { controllerImplementation } from './csi-controller.js';
import { nodeImplementation } from './csi-node.js';
import type { CsiServiceOptions } from './csi-types.js';

export type { CsiServiceOptions, NodePublishRequest, NodeUnpublishRequest, NodeVolumeHandler } from './csi-types.js';
export { sanitizePublishRequest } from './csi-sanitize.js';
export type { SanitizedPublishRequest } from './csi-sanitize.js';

/** Serves csi.v1 Identity, Controller and Node on `endpoint` (`unix:///csi/csi.sock`, `unix://tmp/csi.sock`, or a path). */
export async function startCsiServer(endpoint: string, options: CsiServiceOptions): Promise<UdsServer> {
  const root = loadProtoPackage('csi');
  const identity = serviceConstructor(root, 'csi.v1.Identity').service;
  const controller = serviceConstructor(root, 'csi.v1.Controller').service;
  const node = serviceConstructor(root, 'csi.v1.Node').service;
  return startUdsServer({
    endpoint,
    register: (server) => {
      server.addService(identity, identityImplementation(options));
      server.addService(controller, controllerImplementation(controller));
      server.addService(node, nodeImplementation(options));
    },
  });
}
