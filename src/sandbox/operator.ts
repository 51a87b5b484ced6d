/**
 * Operator commands behind the CLI: `userz sandbox run` and `userz doctor`. Both use the
 * same driver and configuration as a run, so what they show is what a run gets.
 */
import { spawn } from 'node:child_process';
import { PassThrough } from 'node:stream';
import { errorMessage } from '../errors.js';
import { DockerRunscDriver } from './docker-runsc.js';
import type { ExecResult } from './interface.js';
import { resolveSandboxConfig, type SandboxConfigInput } from './limits.js';

export interface SandboxRunRequest {
  /** Host directory whose contents are loaded into /work first (as a run loads its repository). */
  workspace?: string;
  argv: string[];
  config?: SandboxConfigInput;
}

/** Runs one command in a fresh sandbox configured exactly as a run's, then destroys it. */
export async function sandboxRun(req: SandboxRunRequest): Promise<ExecResult> {
  const driver = await DockerRunscDriver.open({ ...req.config, poolSize: 0 });
  try {
    const sandbox = await driver.acquire(`operator-${Date.now()}`);
    try {
      if (req.workspace !== undefined) {
        const tar = spawn('tar', ['-c', '-C', req.workspace, '.'], { stdio: ['ignore', 'pipe', 'inherit'] });
        // Held in a PassThrough: a finished child's unread stdout would otherwise be drained.
        const stream = tar.stdout.pipe(new PassThrough());
        await sandbox.loadRepository(stream, { stripComponents: 0 });
      }
      return await sandbox.exec(req.argv);
    } finally {
      await sandbox.destroy();
    }
  } finally {
    await driver.close();
  }
}

export interface DoctorCheck {
  name: string;
  ok: boolean;
  detail: string;
}

/**
 * Run inside a sandbox by the doctor: every property must come out as the sandbox
 * promises (no network, uid 1000, no capabilities, read-only root).
 */
const SELF_TEST = String.raw`
const net = require('net'), fs = require('fs'), os = require('os');
const tryConnect = (host, port) => new Promise((resolve) => {
  const s = net.connect({ host, port, timeout: 2000 });
  s.on('connect', () => { s.destroy(); resolve('connected'); });
  s.on('timeout', () => { s.destroy(); resolve('timeout'); });
  s.on('error', (e) => resolve(e.code || 'error'));
});
(async () => {
  let rootWrite = 'written';
  // /var/tmp is world-writable in the image: only a read-only root refuses it (EROFS).
  try { fs.writeFileSync('/var/tmp/userz-doctor', 'x'); } catch (e) { rootWrite = e.code; }
  const capEff = /CapEff:\s*(\S+)/.exec(fs.readFileSync('/proc/self/status', 'utf8'))[1];
  console.log(JSON.stringify({
    uid: process.getuid(), gid: process.getgid(), capEff, rootWrite,
    interfaces: Object.keys(os.networkInterfaces()),
    outside: await tryConnect('1.1.1.1', 443), loopbackHost: await tryConnect('127.0.0.1', 5432),
  }));
})();
`;

interface SelfTestReport {
  uid: number;
  gid: number;
  capEff: string;
  rootWrite: string;
  interfaces: string[];
  outside: string;
  loopbackHost: string;
}

async function check(name: string, fn: () => Promise<string>): Promise<DoctorCheck> {
  try {
    return { name, ok: true, detail: await fn() };
  } catch (e) {
    return { name, ok: false, detail: errorMessage(e) };
  }
}

function expect(cond: boolean, detail: string): string {
  if (!cond) throw new Error(detail);
  return detail;
}

export async function runDoctor(input: SandboxConfigInput = {}): Promise<DoctorCheck[]> {
  const config = resolveSandboxConfig(input);
  const { docker } = config;
  const checks: DoctorCheck[] = [];
  checks.push(
    await check('dockerd', async () => {
      const v = await docker.version();
      return `Docker ${v.Version} (API ${v.ApiVersion})`;
    }),
  );
  checks.push(
    await check('runsc runtime', async () => {
      const info = (await docker.info()) as { Runtimes?: Record<string, { path?: string; runtimeArgs?: string[] }> };
      const runsc = info.Runtimes?.runsc;
      if (!runsc) throw new Error('dockerd has no runsc runtime; run scripts/install-sandbox.sh');
      // Setup's egress socket (src/sandbox/egress/) is unreachable under runsc without it.
      if (!(runsc.runtimeArgs ?? []).includes('--host-uds=open')) throw new Error('runsc lacks --host-uds=open (setup egress); run scripts/install-sandbox.sh');
      return `${runsc.path ?? 'runsc'} ${(runsc.runtimeArgs ?? []).join(' ')}`.trim();
    }),
  );
  checks.push(
    await check('sandbox image', async () => {
      const image = await docker.getImage(config.image).inspect();
      return `${config.image} (${image.Id.slice(7, 19)})`;
    }),
  );
  if (checks.some((c) => !c.ok)) return checks;

  let report: SelfTestReport | undefined;
  checks.push(
    await check('sandbox starts', async () => {
      const res = await sandboxRun({ argv: ['node', '-e', SELF_TEST], config: input });
      if (res.exitCode !== 0) throw new Error(`self-test exited ${res.exitCode}: ${res.stderr.toString().slice(0, 500)}`);
      report = JSON.parse(res.stdout.toString()) as SelfTestReport;
      return 'self-test ran';
    }),
  );
  if (!report) return checks;
  const r = report;
  const blocked = (s: string) => s !== 'connected';
  checks.push(
    await check('no network', async () =>
      expect(
        blocked(r.outside) && blocked(r.loopbackHost) && r.interfaces.every((i) => i === 'lo'),
        `interfaces ${r.interfaces.join(',')}; outside ${r.outside}; host 127.0.0.1:5432 ${r.loopbackHost}`,
      ),
    ),
    await check('uid 1000', async () => expect(r.uid === 1000 && r.gid === 1000, `uid ${r.uid} gid ${r.gid}`)),
    await check('no capabilities', async () => expect(/^0+$/.test(r.capEff), `CapEff ${r.capEff}`)),
    await check('read-only root', async () => expect(r.rootWrite === 'EROFS', `writing /var/tmp gives ${r.rootWrite}`)),
  );
  return checks;
}
