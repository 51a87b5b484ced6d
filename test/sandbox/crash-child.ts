/**
 * Run as a separate process by lifecycle.test.ts: acquires a sandbox, loads a repository,
 * reports the sandbox id and then waits to be SIGKILLed mid-run, leaving everything behind.
 */
import { DockerRunscDriver, type SandboxConfigInput } from '../../src/sandbox/index.js';
import { repositoryTar } from './tar-stream-repo.js';

const input = JSON.parse(process.argv[2] ?? '{}') as SandboxConfigInput;
const driver = await DockerRunscDriver.open(input);
const sandbox = (await driver.acquire('run-crash')) as Awaited<ReturnType<DockerRunscDriver['acquire']>> & { sandboxId: string };
await sandbox.loadRepository(repositoryTar('repo-1', [{ path: 'a.txt', content: 'a\n' }]));
process.stdout.write(`${JSON.stringify({ sandboxId: sandbox.sandboxId })}\n`);
setInterval(() => undefined, 60_000);
