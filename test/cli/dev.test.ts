/**
 * The README's first command, `secretlet dev --once`: both emulators, the agent, one demo mount
 * through the provider door, a report of what was mounted (never values), and nothing left behind.
 */
import { access } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { runDev } from '../../src/cli/dev.js';

describe('secretlet dev --once', () => {
  it('mounts the demo through the provider door with one call of each kind and prints no value', async () => {
    const lines: string[] = [];
    const { dir } = await runDev({ once: true, logLevel: 'silent', out: (l) => lines.push(l) });
    const text = lines.join('\n');
    expect(text).toMatch(/mounted SecretProviderClass default\/demo-secrets into /);
    for (const [file, mode] of [
      ['api-url', '0644'],
      ['db-password', '0600'],
      ['db-username', '0644'],
      ['demo_db-credentials', '0644'],
    ]) {
      expect(text).toMatch(new RegExp(`${file}\\s+\\d+ bytes\\s+mode ${mode}\\s+version \\S+`));
    }
    // The credential cache and batching, as a user sees them in the demo.
    expect(text).toContain('AWS calls: {"AssumeRoleWithWebIdentity":1,"BatchGetSecretValue":1,"GetParameters":1}');
    // The demo secret's values never reach the output.
    expect(text).not.toContain('not-a-real-password');
    expect(text).not.toContain('https://api.demo.internal');
    await expect(access(dir)).rejects.toThrow();
  });
});
