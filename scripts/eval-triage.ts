/**
 * `npm run eval:triage`: measures triage on a labelled corpus and on the BIPIA attack texts.
 *
 * - Prefilter: "signals >= threshold" counts as predicting malicious_injection.
 * - Classifier: runs only when OPENAI_API_KEY or ANTHROPIC_API_KEY is set (model from
 *   TRIAGE_MODEL, or a small default), over the same texts.
 * - BIPIA (../shared/corpora/bipia from the repo root): the test split by default, each
 *   attack alone and embedded in an ordinary bug report. Pass `--split train` when tuning
 *   patterns; figures are only reported on the test split.
 */
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createModelClient, type ModelClient } from '../src/model/index.js';
import { performance } from 'node:perf_hooks';
import {
  classifyReport,
  normalizeForMatching,
  prefilterReport,
  scannableText,
  ReportContent,
  TRIAGE_LABELS,
  type ClassifierResult,
  type TriageLabel,
} from '../src/triage/index.js';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const corpusPath = resolve(repoRoot, 'test/fixtures/triage/corpus.jsonl');
const bipiaDir = resolve(repoRoot, '..', 'shared/corpora/bipia');

interface Sample {
  id: string;
  label: TriageLabel;
  content: ReportContent;
}

function loadCorpus(): Sample[] {
  return readFileSync(corpusPath, 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => {
      const row = JSON.parse(line) as { id: string; label: TriageLabel; text: string; console?: unknown };
      return { id: row.id, label: row.label, content: ReportContent.parse({ text: row.text, console: row.console }) };
    });
}

function loadBipia(split: 'train' | 'test'): { kind: 'code' | 'text'; category: string; attack: string }[] {
  const out: { kind: 'code' | 'text'; category: string; attack: string }[] = [];
  for (const kind of ['code', 'text'] as const) {
    const file = JSON.parse(readFileSync(resolve(bipiaDir, `${kind}_attack_${split}.json`), 'utf8')) as Record<string, string[]>;
    for (const [category, attacks] of Object.entries(file)) for (const attack of attacks) out.push({ kind, category, attack });
  }
  return out;
}

/** Ordinary reports that the attacks are hidden in (written for this eval, not from the corpus). */
const CARRIERS = [
  (a: string) => `The export button on the reports page does nothing in Chrome 121.\n\n${a}\n\nThanks for looking into it.`,
  (a: string) => `Checkout shows a blank page after I enter my card. Steps: add item, go to cart, pay.\n${a}`,
  (a: string) => `${a}\n\nAnyway, the real problem: the date picker opens behind the modal on Safari 17.`,
  (a: string) => `Totals in the invoice PDF are off by one cent. Expected 10.00, got 9.99. ${a} Browser: Firefox 122.`,
];

function embed(attack: string, i: number): ReportContent {
  return {
    text: CARRIERS[i % CARRIERS.length]!(attack),
    console: [{ level: 'error', message: 'TypeError: Cannot read properties of undefined (reading "id")' }],
  };
}

const pct = (n: number, d: number): string => (d === 0 ? '  n/a' : `${((100 * n) / d).toFixed(1).padStart(5)}%`);

function precisionRecall(truth: TriageLabel[], predicted: (TriageLabel | null)[], label: TriageLabel): { p: string; r: string; support: number } {
  let tp = 0;
  let fp = 0;
  let fn = 0;
  truth.forEach((t, i) => {
    const p = predicted[i];
    if (p === label && t === label) tp += 1;
    else if (p === label) fp += 1;
    else if (t === label) fn += 1;
  });
  return { p: pct(tp, tp + fp), r: pct(tp, tp + fn), support: tp + fn };
}

function classifierFromEnv(): ModelClient | null {
  if (process.env.OPENAI_API_KEY) {
    return createModelClient({ provider: 'openai', apiKey: process.env.OPENAI_API_KEY, model: process.env.TRIAGE_MODEL ?? 'gpt-4o-mini' });
  }
  if (process.env.ANTHROPIC_API_KEY) {
    return createModelClient({ provider: 'anthropic', apiKey: process.env.ANTHROPIC_API_KEY, model: process.env.TRIAGE_MODEL ?? 'claude-3-5-haiku-latest' });
  }
  return null;
}

const isFlagged = (content: ReportContent): boolean => {
  const r = prefilterReport(content);
  return r.score >= r.threshold;
};

/** Prefilter cost per report, against the baseline of normalising the same text (which it must do anyway). */
function measureSpeed(contents: ReportContent[]): void {
  const rounds = 20;
  const time = (fn: () => void): number => {
    fn(); // warm-up
    const start = performance.now();
    for (let r = 0; r < rounds; r += 1) fn();
    return (performance.now() - start) / (rounds * contents.length);
  };
  const baseline = time(() => contents.forEach((c) => normalizeForMatching(scannableText(c))));
  const prefilter = time(() => contents.forEach((c) => prefilterReport(c)));
  const big = {
    text: 'The export fails. '.repeat(450).slice(0, 8192),
    console: Array.from({ length: 500 }, (_, i) => ({ level: 'log' as const, message: `line ${i} ok` })),
  };
  const bigMs = time(() => prefilterReport(big)) * contents.length;
  console.log(
    `\nPrefilter speed: ${(prefilter * 1000).toFixed(1)} µs/report vs normalise-only baseline ${(baseline * 1000).toFixed(1)} µs ` +
      `(ratio ${(prefilter / baseline).toFixed(2)}); a maximal report (8 KB text + 500 console lines): ${bigMs.toFixed(2)} ms`,
  );
}

async function main(): Promise<void> {
  const split = process.argv.includes('--split') && process.argv[process.argv.indexOf('--split') + 1] === 'train' ? 'train' : 'test';
  const corpus = loadCorpus();
  const truth = corpus.map((s) => s.label);

  console.log(`Triage eval: corpus ${corpus.length} reports; BIPIA ${split} split`);
  console.log('\nPrefilter on the corpus (flagged = signals >= threshold, read as malicious_injection)');
  const prefilterPred = corpus.map((s) => (isFlagged(s.content) ? ('malicious_injection' as const) : null));
  const inj = precisionRecall(truth, prefilterPred, 'malicious_injection');
  console.log('| label | support | flagged | precision | recall |');
  console.log('|---|---|---|---|---|');
  for (const label of TRIAGE_LABELS) {
    const idx = corpus.map((s, i) => (s.label === label ? i : -1)).filter((i) => i >= 0);
    const flagged = idx.filter((i) => prefilterPred[i] !== null).length;
    const pr = label === 'malicious_injection' ? inj : { p: '    -', r: '    -' };
    console.log(`| ${label} | ${idx.length} | ${flagged} (${pct(flagged, idx.length).trim()}) | ${pr.p.trim()} | ${pr.r.trim()} |`);
  }
  const benign = corpus.filter((s) => s.label === 'benign');
  const benignFlagged = benign.filter((s) => isFlagged(s.content));
  console.log(`False-positive rate on benign: ${pct(benignFlagged.length, benign.length).trim()} (${benignFlagged.length}/${benign.length})`);
  for (const s of benignFlagged)
    console.log(
      `  benign flagged: ${s.id} ${prefilterReport(s.content)
        .signals.map((x) => x.id)
        .join(',')}`,
    );
  const missed = corpus.filter((s, i) => s.label === 'malicious_injection' && prefilterPred[i] === null);
  for (const s of missed) console.log(`  injection missed: ${s.id} score ${prefilterReport(s.content).score}`);

  const bipia = loadBipia(split);
  console.log(`\nPrefilter detection on BIPIA ${split} (${bipia.length} attacks)`);
  console.log('| set | alone | embedded in a bug report |');
  console.log('|---|---|---|');
  for (const kind of ['code', 'text', 'all'] as const) {
    const rows = bipia.filter((b) => kind === 'all' || b.kind === kind);
    const alone = rows.filter((b) => isFlagged({ text: b.attack })).length;
    const embedded = rows.filter((b, i) => isFlagged(embed(b.attack, i))).length;
    console.log(`| ${kind} (${rows.length}) | ${pct(alone, rows.length).trim()} (${alone}) | ${pct(embedded, rows.length).trim()} (${embedded}) |`);
  }
  const carriersFlagged = CARRIERS.filter((c) => isFlagged({ text: c(''), console: embed('', 0).console })).length;
  console.log(`Carrier reports flagged without an attack: ${carriersFlagged}/${CARRIERS.length}`);

  measureSpeed([...corpus.map((s) => s.content), ...bipia.map((b, i) => embed(b.attack, i))]);

  const client = classifierFromEnv();
  if (!client) {
    console.log('\nClassifier: skipped (set OPENAI_API_KEY or ANTHROPIC_API_KEY to measure it)');
    return;
  }
  console.log(`\nClassifier (${client.provider} ${client.model}) on the corpus`);
  const results: ClassifierResult[] = [];
  for (const s of corpus) results.push(await classifyReport(s.content, { client }));
  const predicted = results.map((r) => (r.status === 'classified' ? r.classification.label : null));
  console.log('| label | support | precision | recall |');
  console.log('|---|---|---|---|');
  for (const label of TRIAGE_LABELS) {
    const pr = precisionRecall(truth, predicted, label);
    console.log(`| ${label} | ${pr.support} | ${pr.p.trim()} | ${pr.r.trim()} |`);
  }
  console.log(`needs_review (classifier failed): ${results.filter((r) => r.status === 'needs_review').length}`);
  const caught = async (content: ReportContent): Promise<boolean> => {
    const r = await classifyReport(content, { client });
    return r.status !== 'classified' || r.classification.label !== 'benign';
  };
  let alone = 0;
  let embedded = 0;
  for (const [i, b] of bipia.entries()) {
    if (await caught({ text: b.attack })) alone += 1;
    if (await caught(embed(b.attack, i))) embedded += 1;
  }
  console.log(`Classifier on BIPIA ${split}: not benign alone ${pct(alone, bipia.length).trim()}, embedded ${pct(embedded, bipia.length).trim()}`);
}

await main();
