/**
 * Broker + runner overhead per agent turn. Baseline: the same scripted model called
 * directly. Measured: one turn through the JSON-lines protocol (zod parse both sides,
 * 1 MiB-capped line framing) plus a read_file tool call, runner and broker in one process.
 */
import { PassThrough } from 'node:stream';
import { serveRunner } from '../src/broker/index.js';
import { ScriptedModelClient, type ScriptStep } from '../src/model/index.js';
import { runAgentLoop } from '../src/runner/index.js';
import { createTempRepo } from '../test/runner/temp-repo.js';
import { summarize } from './stats.js';
import { printBench, scale } from './bench-line.js';

const us = (n: number): string => `${(n * 1000).toFixed(0)} µs`;

const TURNS = 50;
const ROUNDS = scale(20, 5);

function script(): ScriptStep[] {
  const steps: ScriptStep[] = Array.from({ length: TURNS - 1 }, (_, i) => ({
    toolCalls: [{ id: `c${i}`, name: 'read_file', arguments: { path: 'README.md' } }],
  }));
  steps.push({ content: 'done' });
  return steps;
}

async function direct(): Promise<number> {
  const client = new ScriptedModelClient(script());
  const started = performance.now();
  for (let i = 0; i < TURNS; i += 1) await client.complete({ messages: [{ role: 'user', content: 'x' }] });
  return (performance.now() - started) / TURNS;
}

async function brokered(root: string): Promise<number> {
  const client = new ScriptedModelClient(script());
  const hostToRunner = new PassThrough();
  const runnerToHost = new PassThrough();
  const started = performance.now();
  const [, outcome] = await Promise.all([
    runAgentLoop({ io: { input: hostToRunner, output: runnerToHost }, workspace: root }),
    serveRunner({
      fromRunner: runnerToHost,
      toRunner: hostToRunner,
      client,
      task: { system: 's', prompt: 'p' },
      budget: { maxTurns: TURNS, maxInputTokens: 1e9, maxOutputTokens: 1e9, maxCostUsd: 1 },
    }),
  ]);
  if (outcome.kind !== 'completed') throw new Error(`bench run ended as ${outcome.kind}`);
  return (performance.now() - started) / TURNS;
}

export default async function (): Promise<void> {
  const repo = createTempRepo();
  try {
    await brokered(repo.root); // warm-up
    const base: number[] = [];
    const measured: number[] = [];
    for (let i = 0; i < ROUNDS; i += 1) {
      base.push(await direct());
      measured.push(await brokered(repo.root));
    }
    const b = summarize(base);
    const m = summarize(measured);
    console.log(`per turn, direct model call:      p50 ${us(b.p50)}  p95 ${us(b.p95)}`);
    console.log(`per turn, through runner+broker:  p50 ${us(m.p50)}  p95 ${us(m.p95)}`);
    console.log(`overhead per turn (p50): ${us(m.p50 - b.p50)}; ratio ${(m.p50 / Math.max(b.p50, 1e-6)).toFixed(0)}x (a real model call takes seconds)`);
    printBench({ name: 'broker/turn', metric: 'p50_ms', value: m.p50, baseline: b.p50 });
  } finally {
    repo.remove();
  }
}
