/**
 * Runs the Kubernetes emulator on its own, for people who want to point kubectl or a chart at it:
 * `npx tsx src/emulators/kube/main.ts --port 6443 --kubeconfig ./kubeconfig`. Stops on SIGINT/SIGTERM.
 */
import { parseArgs } from 'node:util';
import { startKubeEmulator } from './emulator.js';

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      host: { type: 'string', default: '127.0.0.1' },
      port: { type: 'string', default: '0' },
      kubeconfig: { type: 'string', default: './kubeconfig' },
      'no-tls': { type: 'boolean', default: false },
    },
  });
  const emulator = await startKubeEmulator({ host: values.host, port: Number(values.port), tls: !values['no-tls'] });
  await emulator.writeKubeconfig(values.kubeconfig);
  process.stdout.write(`Kubernetes emulator at ${emulator.url}\nkubectl --kubeconfig ${values.kubeconfig} get namespaces\n`);
  const stop = (): void => {
    void emulator.stop().then(() => process.exit(0));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
