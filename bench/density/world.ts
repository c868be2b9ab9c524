/**
 * The benchmark's synthetic node: P pods, S = ceil(P/10) service accounts (one IRSA role each; the
 * 10 pods per identity are the mix, `--pods-per-identity` changes it), and
 * per service account one SecretProviderClass with M = 10 objects (8 Secrets Manager, 2 SSM). Pods
 * of one service account share its objects, so "unique objects per identity" is 8 + 2. Shared by the
 * stack process (which seeds it) and the driver (which mounts it), so names never drift apart.
 */

export const NAMESPACE = 'bench';
export const REGION = 'us-east-1';
export const SM_PER_IDENTITY = 8;
export const SSM_PER_IDENTITY = 2;
export const OBJECTS_PER_POD = SM_PER_IDENTITY + SSM_PER_IDENTITY;

export interface PodSpec {
  name: string;
  uid: string;
  serviceAccount: string;
  spc: string;
}

/** The mix: S = P/10. */
export const DEFAULT_PODS_PER_IDENTITY = 10;

/** How big the node is: pods, and how many of them share one service account (identity). */
export interface WorldSize {
  pods: number;
  podsPerIdentity: number;
}

export function serviceAccountCount(size: WorldSize): number {
  return Math.ceil(size.pods / size.podsPerIdentity);
}

export function serviceAccountName(s: number): string {
  return `sa-${s}`;
}

export function roleArn(s: number): string {
  return `arn:aws:iam::111122223333:role/bench-${serviceAccountName(s)}`;
}

export function secretName(s: number, k: number): string {
  return `bench/${serviceAccountName(s)}/sm-${k}`;
}

export function parameterName(s: number, k: number): string {
  return `/bench/${serviceAccountName(s)}/p-${k}`;
}

export function spcName(s: number): string {
  return `spc-${serviceAccountName(s)}`;
}

/** The `objects` YAML of identity `s`; the first secret also exercises JMESPath rendering. */
export function objectsYaml(s: number): string {
  const lines: string[] = [];
  for (let k = 0; k < SM_PER_IDENTITY; k++) {
    lines.push(`- objectName: "${secretName(s, k)}"`, '  objectType: "secretsmanager"');
    if (k === 0) lines.push('  jmesPath:', '    - path: "username"', '      objectAlias: "db-username"', '    - path: "password"', '      objectAlias: "db-password"');
  }
  for (let k = 0; k < SSM_PER_IDENTITY; k++) lines.push(`- objectName: "${parameterName(s, k)}"`, '  objectType: "ssmparameter"');
  return `${lines.join('\n')}\n`;
}

export function secretValue(s: number, k: number, generation: number): string {
  return JSON.stringify({ username: `user-${s}-${k}`, password: `pw-${s}-${k}-g${generation}`, pad: 'x'.repeat(200) });
}

export function pods(size: WorldSize): PodSpec[] {
  const sas = serviceAccountCount(size);
  return Array.from({ length: size.pods }, (_, i) => ({
    name: `pod-${i}`,
    uid: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
    serviceAccount: serviceAccountName(i % sas),
    spc: spcName(i % sas),
  }));
}

/**
 * A pod of an extra identity (index S) that is mounted once before the cold burst, so the burst
 * measures cold caches and not the agent process's first module loads and JIT warm-up.
 */
export function warmupPod(size: WorldSize): PodSpec {
  const s = serviceAccountCount(size);
  return { name: 'pod-warmup', uid: '00000000-0000-4000-8000-ffffffffffff', serviceAccount: serviceAccountName(s), spc: spcName(s) };
}

/** Every (identity, object) of the world, in a stable order; rotation changes every 10th. */
export function allObjects(size: WorldSize): Array<{ type: 'sm' | 'ssm'; s: number; k: number }> {
  const out: Array<{ type: 'sm' | 'ssm'; s: number; k: number }> = [];
  for (let s = 0; s < serviceAccountCount(size); s++) {
    for (let k = 0; k < SM_PER_IDENTITY; k++) out.push({ type: 'sm', s, k });
    for (let k = 0; k < SSM_PER_IDENTITY; k++) out.push({ type: 'ssm', s, k });
  }
  return out;
}
