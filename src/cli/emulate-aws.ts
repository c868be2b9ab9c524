/**
 * `secretlet emulate aws`: the local AWS endpoint on its own, for users' charts and demos. With
 * `--trust-kube <kubeconfig>` its STS and Pod Identity agent accept the service-account tokens of
 * the Kubernetes API server that kubeconfig names (e.g. `secretlet emulate kube`): the issuer and its
 * keys are read through the kubeconfig, whose CA the AWS endpoint would not trust by itself.
 */
import type { JsonWebKey } from 'node:crypto';
import https from 'node:https';
import { KubeConfig } from '@kubernetes/client-node';
import type { AwsEmulator } from '../emulators/aws/index.js';

export interface EmulateAwsOptions {
  port: number;
  host: string;
  latencyMs: number;
  seed?: string;
  trustKube?: string;
  /** `--quotas`: per-action rate limits, `aws` for AWS's default quotas (parseQuotas). Off when unset. */
  quotas?: string;
  out: (line: string) => void;
  /** Resolves when the emulator should stop (SIGINT / SIGTERM). */
  untilStopped: () => Promise<void>;
}

export async function runEmulateAws(o: EmulateAwsOptions): Promise<void> {
  const { startAwsEmulator, loadSeed, AWS_DEFAULT_QUOTAS } = await import('../emulators/aws/index.js');
  const rateLimits = o.quotas === undefined ? undefined : parseQuotas(o.quotas, AWS_DEFAULT_QUOTAS);
  const aws = await startAwsEmulator({ host: o.host, port: o.port, latencyMs: o.latencyMs, ...(rateLimits === undefined ? {} : { rateLimits }) });
  try {
    if (o.trustKube !== undefined) o.out(`trusting service-account tokens of ${await trustKubeIssuer(aws, o.trustKube)}`);
    if (o.seed !== undefined) await loadSeed(aws, o.seed);
  } catch (e) {
    // A half-set-up emulator would keep the port and look usable; stop it and fail the command.
    await aws.stop();
    throw e;
  }
  if (rateLimits !== undefined) {
    o.out(`throttling per region above: ${Object.entries(rateLimits).map(([key, rate]) => `${key} ${rate}/s`).join(', ')}`);
  }
  const { accessKeyId, secretAccessKey } = aws.adminCredentials;
  o.out(`local AWS endpoint on ${aws.url} (admin credentials: the emulator's fixed, public pair)`);
  // Both region variables: the SDKs read AWS_REGION, AWS CLI v1 only AWS_DEFAULT_REGION.
  o.out(`export AWS_ENDPOINT_URL=${aws.url} AWS_REGION=us-east-1 AWS_DEFAULT_REGION=us-east-1 AWS_ACCESS_KEY_ID=${accessKeyId} AWS_SECRET_ACCESS_KEY=${secretAccessKey}`);
  await o.untilStopped();
  await aws.stop();
}

/**
 * `--quotas`: comma-separated `Action=callsPerSecond` (`A+B=n` gives actions one shared bucket, as
 * GetParameter and GetParameters share SSM's), and `aws` for AWS's default quotas, which later items
 * override: `aws,GetParameter+GetParameters=3000` throttles like an account with SSM's higher
 * throughput on.
 */
export function parseQuotas(text: string, awsDefaults: Readonly<Record<string, number>>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const item of text.split(',').map((s) => s.trim()).filter((s) => s !== '')) {
    if (item === 'aws') {
      Object.assign(out, awsDefaults);
      continue;
    }
    const m = /^([A-Za-z]+(?:\+[A-Za-z]+)*)=(\d+(?:\.\d+)?)$/.exec(item);
    const rate = m === null ? NaN : Number(m[2]);
    if (m === null || !(rate > 0)) throw new Error(`--quotas: "${item}" is not aws or Action=callsPerSecond (e.g. GetParameter+GetParameters=40)`);
    out[m[1]!] = rate;
  }
  if (Object.keys(out).length === 0) throw new Error('--quotas: give aws or at least one Action=callsPerSecond');
  return out;
}

/** Trusts the issuer of the API server `kubeconfigPath` names; returns the issuer URL. */
async function trustKubeIssuer(aws: AwsEmulator, kubeconfigPath: string): Promise<string> {
  const kc = new KubeConfig();
  kc.loadFromFile(kubeconfigPath);
  const server = kc.getCurrentCluster()?.server;
  if (server === undefined) throw new Error(`--trust-kube: ${kubeconfigPath} names no current cluster`);
  const discovery = (await getJson(kc, `${server}/.well-known/openid-configuration`)) as { issuer?: unknown };
  if (typeof discovery.issuer !== 'string') throw new Error(`--trust-kube: ${server} serves no service-account issuer discovery`);
  const jwks = (await getJson(kc, `${server}/openid/v1/jwks`)) as { keys: JsonWebKey[] };
  await aws.trustIssuer({ issuer: discovery.issuer, jwks });
  return discovery.issuer;
}

async function getJson(kc: KubeConfig, url: string): Promise<unknown> {
  const options: https.RequestOptions = {};
  await kc.applyToHTTPSOptions(options);
  return new Promise((resolve, reject) => {
    https
      .get(url, options, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const body = Buffer.concat(chunks).toString('utf8');
          if (res.statusCode !== 200) reject(new Error(`--trust-kube: GET ${url} answered ${res.statusCode}`));
          else resolve(JSON.parse(body));
        });
        res.on('error', reject);
      })
      .on('error', (e) => reject(new Error(`--trust-kube: GET ${url} failed: ${e.message}`)));
  });
}
