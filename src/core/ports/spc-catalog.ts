/**
 * Where SecretProviderClass objects come from (the Kubernetes adapter serves them from a watched,
 * per-namespace cache). Only the fields the agent uses.
 */
export interface SecretObjectData {
  objectName: string;
  key: string;
}

export interface SecretObjectSpec {
  secretName: string;
  type: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  data: SecretObjectData[];
}

export interface SecretProviderClassSpec {
  namespace: string;
  name: string;
  uid: string;
  provider: string;
  /** `spec.parameters`; undefined when absent. */
  parameters: Record<string, string> | undefined;
  secretObjects: SecretObjectSpec[];
}

export interface SpcCatalog {
  /** Undefined when the object does not exist in that namespace. */
  get(namespace: string, name: string): Promise<SecretProviderClassSpec | undefined>;
}
