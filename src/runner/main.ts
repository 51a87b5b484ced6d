/**
 * Entry of the runner inside the sandbox: `node runner.mjs [workspace]` (default /work).
 * Bundled into one file by esbuild (node builtins and zod only), run by the image's Node 20 as uid 1000.
 * stdout carries protocol lines only: nothing in the runner writes anything else to it.
 */
import { runAgentLoop } from './loop.js';
import { RUNNER_READY_ENV, RUNNER_READY_LINE } from './protocol.js';

const workspace = process.argv[2] ?? '/work';
// Loaded (every import evaluated) and about to wait for the task: tell a pooling host.
if (process.env[RUNNER_READY_ENV] === '1') process.stderr.write(RUNNER_READY_LINE);
const exit = await runAgentLoop({ io: { input: process.stdin, output: process.stdout }, workspace });
process.exitCode = exit.status === 'done' ? 0 : exit.status === 'aborted' ? 3 : 1;
// stdin may stay open (the host keeps its end); nothing is left to do.
process.stdout.end(() => process.exit());
