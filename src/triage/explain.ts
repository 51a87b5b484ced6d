import { readFile } from 'node:fs/promises';
import { errorMessage } from '../errors.js';
import type { ModelClient } from '../model/index.js';
import { classifyReport, type ClassifierResult } from './classifier.js';
import { decide, type TriageDecision } from './policy.js';
import { prefilterReport } from './prefilter.js';
import { ReportContent } from './report-content.js';
import { buildAgentPrompt } from './wrap.js';

export interface ReportExplanation {
  signals: { id: string; score: number }[];
  score: number;
  threshold: number;
  /** null when no model client was given. */
  classification: ClassifierResult | null;
  decision: TriageDecision;
  /** The prompt the agent would get: system paragraph and wrapped user message. */
  prompt: string;
}

/** What triage makes of one report, for maintainers tuning rules (`userz triage explain`). */
export async function explainReport(
  content: ReportContent,
  opts: { client?: ModelClient; nonce?: string; timeoutMs?: number } = {},
): Promise<ReportExplanation> {
  const prefilter = prefilterReport(content);
  const classification = opts.client ? await classifyReport(content, { client: opts.client, nonce: opts.nonce, timeoutMs: opts.timeoutMs }) : null;
  const agent = buildAgentPrompt(content, { nonce: opts.nonce });
  return {
    signals: prefilter.signals.map(({ id, score }) => ({ id, score })),
    score: prefilter.score,
    threshold: prefilter.threshold,
    classification,
    decision: decide({ signals: prefilter.signals, classification, threshold: prefilter.threshold }),
    prompt: `[system]\n${agent.system}\n\n[user]\n${agent.user}`,
  };
}

export interface TextSink {
  write(chunk: string): unknown;
}

export interface TriageExplainArgs {
  file: string;
  json?: boolean;
  client?: ModelClient;
  stdout: TextSink;
  stderr: TextSink;
}

const EXIT_OK = 0;
const EXIT_USAGE = 2;

function describeClassification(c: ClassifierResult | null): string {
  if (c === null) return 'not run (no model configured)';
  if (c.status === 'needs_review') return `failed: ${c.cause} (${c.detail})`;
  return `${c.classification.label} (confidence ${c.classification.confidence}, ${c.model}): ${c.classification.reason}`;
}

function renderText(e: ReportExplanation): string {
  const signals = e.signals.length === 0 ? '  (none)' : e.signals.map((s) => `  ${s.id}  ${s.score}`).join('\n');
  return [
    `Prefilter score ${e.score} (threshold ${e.threshold})`,
    'Signals:',
    signals,
    `Classifier: ${describeClassification(e.classification)}`,
    `Decision: ${e.decision.action} (${e.decision.reason})`,
    '',
    'Agent prompt:',
    e.prompt,
    '',
  ].join('\n');
}

/** `userz triage explain --file REPORT.json [--json]`. Exit 2 with one line on stderr for unreadable or invalid input. */
export async function runTriageExplain(args: TriageExplainArgs): Promise<number> {
  let raw: string;
  try {
    raw = await readFile(args.file, 'utf8');
  } catch (e) {
    args.stderr.write(`userz triage explain: cannot read ${args.file}: ${(e as NodeJS.ErrnoException).code ?? errorMessage(e)}\n`);
    return EXIT_USAGE;
  }
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch {
    args.stderr.write(`userz triage explain: ${args.file} is not valid JSON\n`);
    return EXIT_USAGE;
  }
  const parsed = ReportContent.safeParse(json);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
    args.stderr.write(`userz triage explain: ${args.file} is not a report: ${issues}\n`);
    return EXIT_USAGE;
  }
  const explanation = await explainReport(parsed.data, { client: args.client });
  args.stdout.write(args.json ? `${JSON.stringify(explanation, null, 2)}\n` : renderText(explanation));
  return EXIT_OK;
}
