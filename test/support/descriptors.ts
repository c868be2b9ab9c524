/** Builds ObjectDescriptors and MountPlans for unit tests: plain Secrets Manager objects unless overridden. */
import type { MountPlan, ObjectDescriptor } from '../../src/core/model.js';

export function descriptor(over: Partial<ObjectDescriptor> & { index: number; objectName: string }): ObjectDescriptor {
  return {
    objectType: 'secretsmanager',
    objectAlias: '',
    objectVersion: '',
    objectVersionLabel: '',
    filePermission: '',
    jmesPath: [],
    failoverObject: undefined,
    fileName: over.objectAlias || over.objectName,
    ...over,
  };
}

/** A plan for pod ns/p (uid u1, service account sa) in us-east-1 over `objects`, IRSA, mode 0644. */
export function mountPlan(objects: ObjectDescriptor[], over: Partial<MountPlan> = {}): MountPlan {
  return {
    pod: { namespace: 'ns', name: 'p', uid: 'u1', serviceAccount: 'sa' },
    regions: ['us-east-1'],
    authMode: 'irsa',
    preferredAddressType: 'auto',
    pathTranslation: { kind: 'replace', char: '_' },
    objects,
    defaultMode: 0o644,
    ...over,
  };
}
