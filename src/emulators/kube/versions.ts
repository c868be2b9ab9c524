/**
 * Serving one stored object through several versions of its type. The store keeps every object as
 * its type's storage version; a request through another served version (CSI v1alpha1) sees the same
 * object with that version's apiVersion, which is all a `conversion: None` CRD does.
 */
import type { ResourceType } from './resources.js';
import type { KubeObject } from './types.js';

/** The object as `type`'s version serves it (a copy when the apiVersion changes). */
export function inVersion<T extends KubeObject | undefined>(type: ResourceType, obj: T): T {
  if (obj === undefined || obj.apiVersion === type.apiVersion) return obj;
  return { ...obj, apiVersion: type.apiVersion };
}
