import { runCommands } from '../../src/pipeline/checks.js';
import { DockerRunscDriver, type Sandbox, type SandboxDriver } from '../../src/sandbox/index.js';
import { prepareSandboxEngine, testSandboxConfig } from '../sandbox/engine.js';
import { repositoryTar } from '../sandbox/tar-stream-repo.js';

import { jest } from '@jest/globals';

jest.setTimeout(180_000);

describe('check commands as the host runs them in the real sandbox', () => {
  let driver: SandboxDriver;
  let sandbox: Sandbox;
  beforeAll(async () => {
    prepareSandboxEngine();
    driver = await DockerRunscDriver.open(testSandboxConfig('check-commands', { runnerCommand: null }));
    sandbox = await driver.acquire('run_checkcommands');
    await sandbox.loadRepository(repositoryTar('repo', [{ path: 'README.md', content: '# r\n' }]), { stripComponents: 1 });
  });
  afterAll(async () => {
    await sandbox.destroy();
    await driver.close();
  });

  it('keeps only the tail of a long output, with the command’s own exit code, and stops at the first failure', async () => {
    const out = await runCommands(sandbox, ['i=0; while [ $i -lt 3000 ]; do echo "line $i"; i=$((i+1)); done; echo last >&2; exit 7', 'echo never'], {
      tailBytes: 1000,
    });
    expect(out.status).toBe('failed');
    expect(out.commands).toHaveLength(1);
    expect(out.commands[0]).toMatchObject({ exitCode: 7, timedOut: false });
    expect(Buffer.byteLength(out.commands[0]!.outputTail)).toBeLessThanOrEqual(1000);
    expect(out.commands[0]!.outputTail).toMatch(/line 2999\nlast\n$/);
  });

  it('ends a command at its time limit (errored, no exit code) and has no network', async () => {
    const slow = await runCommands(sandbox, ['echo started; sleep 60'], { timeoutMs: 1500 });
    expect(slow).toMatchObject({ status: 'errored', commands: [{ exitCode: null, timedOut: true }] });
    // Its sleep went with it.
    const left = await runCommands(sandbox, [
      `node -e "const fs=require('fs');for(const p of fs.readdirSync('/proc'))if(/^[0-9]+$/.test(p)){try{if(fs.readFileSync('/proc/'+p+'/cmdline','utf8').split(String.fromCharCode(0)).includes('60'))process.exit(9)}catch(e){}}"`,
    ]);
    expect(left.status).toBe('passed');
    const net = await runCommands(sandbox, [
      `node -e "require('net').connect({host:'1.1.1.1',port:443,timeout:3000}).on('connect',()=>process.exit(0)).on('error',(e)=>{console.log(e.code);process.exit(1)}).on('timeout',()=>process.exit(2))"`,
    ]);
    expect(net.status).toBe('failed');
    expect(net.commands[0]!.exitCode).not.toBe(0);
  });

  it('ends what a command left running when it exits, so nothing holds its output or outlives it', async () => {
    const out = await runCommands(
      sandbox,
      [
        'sleep 120 & echo left a sleeper',
        `node -e "const fs=require('fs');for(const p of fs.readdirSync('/proc'))if(/^[0-9]+$/.test(p)){try{if(fs.readFileSync('/proc/'+p+'/cmdline','utf8').split(String.fromCharCode(0)).includes('120'))process.exit(9)}catch(e){}}"`,
      ],
      {
        timeoutMs: 30_000,
      },
    );
    expect(out.commands[0]).toMatchObject({ exitCode: 0, timedOut: false, outputTail: 'left a sleeper\n' });
    expect(out.commands[1]).toMatchObject({ exitCode: 0, outputTail: '' });
  });

  it('passes when every command exits 0, and reports not_configured for none', async () => {
    expect((await runCommands(sandbox, ['true', 'test -f README.md'])).status).toBe('passed');
    expect(await runCommands(sandbox, [])).toEqual({ status: 'not_configured', commands: [], ms: 0 });
  });
});
