/**
 * In-memory implementations of the AWS adapter's ports, for tests and the emulator-backed dev mode:
 * service-account role annotations and the node's region set by hand.
 */
import type { NodeRegionSource, PodRef, ServiceAccountDirectory } from './ports.js';

export class InMemoryServiceAccountDirectory implements ServiceAccountDirectory {
  readonly #roles = new Map<string, string>();
  lookups = 0;

  setRoleArn(namespace: string, name: string, roleArn: string | undefined): void {
    const key = `${namespace}/${name}`;
    if (roleArn === undefined) this.#roles.delete(key);
    else this.#roles.set(key, roleArn);
  }

  async roleArnOf(namespace: string, name: string): Promise<string | undefined> {
    this.lookups++;
    return this.#roles.get(`${namespace}/${name}`);
  }
}

export class StaticNodeRegionSource implements NodeRegionSource {
  region: string | undefined;
  lookups = 0;

  constructor(region: string | undefined) {
    this.region = region;
  }

  /** The pods the lookups were asked for, in order. */
  readonly askedFor: PodRef[] = [];

  async regionOfThisNode(pod: PodRef): Promise<string | undefined> {
    this.lookups++;
    this.askedFor.push({ namespace: pod.namespace, name: pod.name });
    return this.region;
  }
}
