/** Builds ObjectDescriptors for core unit tests: a plain Secrets Manager object unless overridden. */
import type { ObjectDescriptor } from '../../src/core/model.js';

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
