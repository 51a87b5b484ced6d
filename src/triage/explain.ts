import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { errorMessage } from '../errors.js';
import type { ModelClient } from '../model/index.js';
import { buildAgentPrompt } from './agent-prompt.js';
import type { BatchMember } from './batch.js';
import { classifyReport, type ClassifierResult } from './classifier.js';
import { decide, type TriageDecision } from './policy.js';
import { prefilterReport } from './prefilter.js';
import { ReportContent } from './report-content.js';

export interface ReportTriage {
  signals: { id: string; score: number }[];
  score: number;
  threshold: number;
  /** null when no model client was given. */
  classification: ClassifierResult | null;
  decision: TriageDecision;
}

export interface ReportExplanation extends ReportTriage {
  /** The exact prompt a run on this report would send the agent: system prompt and first user message. */
  prompt: string;
}

export interface BatchExplanation {
  /** Each report is triaged on its own, as the pipeline does. */
  reports: ReportTriage[];
  /** The exact prompt the batch's run would send the agent. */
  prompt: string;
}

interface ExplainOptions {
  client?: ModelClient;
  nonce?: string;
  timeoutMs?: number;
}

async function triageOne(content: ReportContent, opts: ExplainOptions): Promise<ReportTriage> {
  const prefilter = prefilterReport(content);
  const classification = opts.client ? await classifyReport(content, { client: opts.client, nonce: opts.nonce, timeoutMs: opts.timeoutMs }) : null;
  return {
    signals: prefilter.signals.map(({ id, score }) => ({ id, score })),
    score: prefilter.score,
    threshold: prefilter.threshold,
    classification,
    decision: decide({ signals: prefilter.signals, classification, threshold: prefilter.threshold }),
  };
}

function renderPrompt(members: readonly BatchMember[], nonce: string | undefined): string {
  const agent = buildAgentPrompt(members, { nonce });
  return `[system]\n${agent.system}\n\n[user]\n${agent.prompt}`;
}

/** What triage makes of one report, for maintainers tuning rules (`userz triage explain`). */
export async function explainReport(content: ReportContent, opts: ExplainOptions = {}): Promise<ReportExplanation> {
  return { ...(await triageOne(content, opts)), prompt: renderPrompt([{ content, receivedAt: new Date(0) }], opts.nonce) };
}

/** The same for a batch: each report's triage and the one agent prompt of the batch's run. */
export async function explainBatch(members: readonly BatchMember[], opts: ExplainOptions = {}): Promise<BatchExplanation> {
  const reports: ReportTriage[] = [];
  for (const m of members) reports.push(await triageOne(m.content, opts));
  return { reports, prompt: renderPrompt(members, opts.nonce) };
}

/** A report file: one report, or a batch `{"reports": [...]}` whose entries may carry their `receivedAt` time. */
const BatchFile = z.object({
  reports: z.array(ReportContent.extend({ receivedAt: z.iso.datetime({ offset: true }).optional() })).min(1),
});

function batchMembers(file: z.infer<typeof BatchFile>): BatchMember[] {
  // Without times, the file's order is the order received.
  return file.reports.map(({ receivedAt, ...content }, i) => ({ content, receivedAt: receivedAt ? new Date(receivedAt) : new Date(i) }));
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

function renderTriage(e: ReportTriage): string[] {
  const signals = e.signals.length === 0 ? '  (none)' : e.signals.map((s) => `  ${s.id}  ${s.score}`).join('\n');
  return [
    `Prefilter score ${e.score} (threshold ${e.threshold})`,
    'Signals:',
    signals,
    `Classifier: ${describeClassification(e.classification)}`,
    `Decision: ${e.decision.action} (${e.decision.reason})`,
  ];
}

function renderText(e: ReportExplanation | BatchExplanation): string {
  const triage = 'reports' in e ? e.reports.flatMap((r, i) => [`Report ${i + 1} of ${e.reports.length}:`, ...renderTriage(r), '']) : [...renderTriage(e), ''];
  return [...triage, 'Agent prompt:', e.prompt, ''].join('\n');
}

/** `userz triage explain --file REPORT.json [--json]`; the file holds one report or a batch `{"reports": [...]}`. Exit 2 with one line on stderr for unreadable or invalid input. */
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
  // A file with a top-level "reports" array is a batch; anything else must be one report.
  const ExplainFile = typeof json === 'object' && json !== null && 'reports' in json ? BatchFile.transform(batchMembers) : ReportContent;
  const parsed = ExplainFile.safeParse(json);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
    args.stderr.write(`userz triage explain: ${args.file} is not a report or a batch of reports: ${issues}\n`);
    return EXIT_USAGE;
  }
  const explanation = Array.isArray(parsed.data)
    ? await explainBatch(parsed.data, { client: args.client })
    : await explainReport(parsed.data, { client: args.client });
  args.stdout.write(args.json ? `${JSON.stringify(explanation, null, 2)}\n` : renderText(explanation));
  return EXIT_OK;
}
