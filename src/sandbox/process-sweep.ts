/**
 * Ends every process the agent's turn left behind before the host reads the change set:
 * a daemon started through a hook, fsmonitor, a check or a double fork would otherwise go
 * on writing into the workspace while, or after, it is read.
 *
 * How: the sweep runs as the sandbox user (uid 1000) and calls kill(-1, SIGKILL), which
 * signals every process that user may signal except the caller: all of uid 1000's, since
 * the sandbox's init runs as another user (container-spec.ts) and no process has
 * CAP_KILL. Process groups and sessions are no escape (setsid'd daemons are included), and
 * a fork racing the first kill is caught by the next one. It repeats until /proc shows no
 * live process of the user but itself. Node, because bookworm's `ls`/`stat` fail under
 * runsc; exits 4 if something still lives after the deadline.
 *
 * A block of its own so that it can run first in the same `node -e` as the tree walk.
 */
export const SWEEP_EXIT_CODE = 4;

export const PROCESS_SWEEP_SOURCE = String.raw`
{
  const fs = require('fs');
  const uid = process.getuid();
  const pause = (ms) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
  const survivors = () => fs.readdirSync('/proc').filter((p) => {
    if (!/^\d+$/.test(p) || Number(p) === process.pid) return false;
    try {
      const status = fs.readFileSync('/proc/' + p + '/status', 'utf8');
      return new RegExp('^Uid:\\s+' + uid + '\\s', 'm').test(status) && !/^State:\s+Z/m.test(status);
    } catch (e) {
      return false; // gone while we looked
    }
  });
  const deadline = Date.now() + 10000;
  for (;;) {
    try { process.kill(-1, 'SIGKILL'); } catch (e) { if (e.code !== 'ESRCH') throw e; }
    const left = survivors();
    if (left.length === 0) break;
    if (Date.now() > deadline) {
      process.stderr.write('processes survived the sweep: ' + left.join(',') + '\n');
      process.exit(${SWEEP_EXIT_CODE});
    }
    pause(20);
  }
}
`;
