/**
 * A pipeline worker in its own process, for the durability test (which SIGKILLs it).
 * Usage: node --import ./scripts/register-ts.js test/pipeline/worker-process.ts '<json>'
 * Built like the composition root does, with the model and GitHub pointing at the test's
 * local stand-ins. Prints "worker ready" once polling.
 */
import { createForge } from '../../src/forge/index.js';
import { createNotifier } from '../../src/intake/index.js';
import { createLogger } from '../../src/log/index.js';
import { createModelClient } from '../../src/model/index.js';
import { startWorker } from '../../src/pipeline/index.js';
import { DockerRunscDriver } from '../../src/sandbox/index.js';
import { KeyringMasterKey, Vault } from '../../src/security/index.js';
import { LocalBlobStore, openPostgres } from '../../src/store/index.js';
import { DEFAULT_RUN_BUDGET } from '../../src/broker/index.js';

const opts = JSON.parse(process.argv[2]!) as {
  dbUrl: string;
  schema: string;
  blobDir: string;
  keyring: string;
  openaiUrl: string;
  github: { appId: string; privateKey: string };
  sandbox: Record<string, unknown>;
};

const log = createLogger({ level: 'warn' });
const db = await openPostgres({ url: opts.dbUrl, schema: opts.schema, max: 4 });
const vault = new Vault(db, new KeyringMasterKey(opts.keyring));
const model = (name: string) =>
  createModelClient({ provider: 'openai', apiKey: 'sk-fake-key-for-tests', baseUrl: `${opts.openaiUrl}/v1`, model: name, maxRetries: 0 });
const sandbox = await DockerRunscDriver.open(opts.sandbox as never);
startWorker(
  {
    db,
    blobs: new LocalBlobStore(opts.blobDir),
    vault,
    log,
    publicUrl: 'http://127.0.0.1',
    classifier: model('gpt-4.1-mini'),
    agent: model('gpt-4.1'),
    sandbox,
    forgeFor: (repo) => createForge(repo, { github: opts.github, retry: { attempts: 2, baseDelayMs: 50, maxDelayMs: 100 } }),
    notifier: createNotifier({ db, vault, log, config: {} }),
    budget: DEFAULT_RUN_BUDGET,
    batchDelayMs: 0,
  },
  { pollMs: 100, leaseMs: 3_000 },
);
process.stdout.write('worker ready\n');
