/**
 * `userz sandbox build`: runs scripts/build-sandbox-image.sh, which builds (or finds
 * current) the base and sandbox images and tags userz-sandbox:current.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Writable } from 'node:stream';
import { UserzError } from '../errors.js';

/** From src/sandbox/ and from the built lib/sandbox/ alike. */
export const BUILD_SCRIPT = fileURLToPath(new URL('../../scripts/build-sandbox-image.sh', import.meta.url));

/** Streams the build's progress to `out` and resolves with the sandbox image tag. */
export function runSandboxBuild(out: Writable, env: NodeJS.ProcessEnv = process.env): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', [BUILD_SCRIPT], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString('utf8');
      out.write(d);
    });
    child.stderr.on('data', (d: Buffer) => out.write(d));
    child.on('error', reject);
    child.on('close', (code) => {
      const tag = stdout.trim().split('\n').pop() ?? '';
      if (code === 0 && tag.startsWith('userz-sandbox:')) resolve(tag);
      else reject(new UserzError('sandbox_build_failed', 'Building the sandbox image failed', { details: { exitCode: code } }));
    });
  });
}
