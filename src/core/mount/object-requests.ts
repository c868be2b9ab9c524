/**
 * What to ask the SecretSource for one object in one region, with ASCP's failover-aware accessors
 * (aws-provider.md §5): in the failover region each of name, version and label comes from
 * `failoverObject` when set there, else from the object itself.
 */
import type { ObjectDescriptor, ObjectRequest } from '../model.js';

export interface EffectiveObject {
  name: string;
  version: string;
  label: string;
}

export function effectiveObject(d: ObjectDescriptor, useFailover: boolean): EffectiveObject {
  const f = useFailover ? d.failoverObject : undefined;
  return {
    name: f !== undefined && f.objectName !== '' ? f.objectName : d.objectName,
    version: f !== undefined && f.objectVersion !== '' ? f.objectVersion : d.objectVersion,
    label: f !== undefined && f.objectVersionLabel !== '' ? f.objectVersionLabel : d.objectVersionLabel,
  };
}

/**
 * Pinned to one version by the SPC (`objectVersion`): rotation never asks for it again. A label is
 * not a pin: it moves from version to version.
 */
export function isPinned(d: ObjectDescriptor): boolean {
  return d.objectVersion !== '';
}

/**
 * Secrets Manager: SecretId, VersionId and VersionStage (both sent when both are set, as ASCP does).
 * SSM: the name with a `:version` selector, else a `:label` selector (SSM's `name:selector` syntax).
 */
export function objectRequestFor(d: ObjectDescriptor, useFailover: boolean): ObjectRequest {
  const e = effectiveObject(d, useFailover);
  if (d.objectType === 'secretsmanager') {
    return {
      type: 'secretsmanager',
      secretId: e.name,
      ...(e.version === '' ? {} : { versionId: e.version }),
      ...(e.label === '' ? {} : { versionStage: e.label }),
    };
  }
  const selector = e.version !== '' ? e.version : e.label;
  return { type: 'ssmparameter', name: e.name, ...(selector === '' ? {} : { selector }) };
}
