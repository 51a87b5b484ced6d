import { readFile, stat } from 'node:fs/promises';
import { Worker } from 'node:worker_threads';
import { z } from 'zod';
import { UserzError } from '../errors.js';
import { truncateOutput } from './output-limit.js';
import { walkWorkspace } from './walk.js';
import { resolveExisting, type Workspace } from './workspace-path.js';

export const MAX_LIST_ENTRIES = 2000;
export const MAX_SEARCH_MATCHES = 200;
export const MAX_SEARCH_FILES = 20_000;
export const MAX_SEARCH_FILE_BYTES = 1024 * 1024;
export const MAX_SEARCH_TOTAL_BYTES = 64 * 1024 * 1024;
export const MAX_PATTERN_LENGTH = 500;
export const SEARCH_TIMEOUT_MS = 10_000;
const MAX_LINE_SHOWN = 300;

export const ListFilesArgs = z.object({ path: z.string().optional(), recursive: z.boolean().optional() });
export const SearchArgs = z.object({
  pattern: z.string().min(1).max(MAX_PATTERN_LENGTH),
  regex: z.boolean().optional(),
  ignoreCase: z.boolean().optional(),
  path: z.string().optional(),
});

export async function listWorkspaceFiles(ws: Workspace, args: z.infer<typeof ListFilesArgs>): Promise<string> {
  const { abs, rel } = await resolveExisting(ws, args.path ?? '.');
  if (!(await stat(abs)).isDirectory()) throw new UserzError('tool_not_a_directory', 'Not a directory');
  const { entries, truncated } = await walkWorkspace(abs, rel, { recursive: args.recursive ?? false, maxEntries: MAX_LIST_ENTRIES });
  const lines = entries.map((e) => (e.kind === 'dir' ? `${e.rel}/` : e.kind === 'symlink' ? `${e.rel} (symlink)` : e.rel));
  if (truncated) lines.push(`[… listing stopped after ${MAX_LIST_ENTRIES} entries]`);
  return truncateOutput(lines.join('\n'));
}

interface SearchFile {
  rel: string;
  text: string;
}

interface SearchHit {
  rel: string;
  line: number;
  text: string;
}

/**
 * Regexes from the model run in a worker thread that is terminated at the deadline: a
 * catastrophic pattern such as `(a+)+$` cannot hang the runner. The worker code is a
 * string so the runner stays one bundled file (esbuild does not follow worker URLs).
 */
const REGEX_WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const { pattern, flags, files, maxMatches } = workerData;
const re = new RegExp(pattern, flags);
const hits = [];
outer: for (const f of files) {
  const lines = f.text.split('\\n');
  for (let i = 0; i < lines.length; i++) {
    if (re.test(lines[i])) {
      hits.push({ rel: f.rel, line: i + 1, text: lines[i] });
      if (hits.length >= maxMatches) break outer;
    }
  }
}
parentPort.postMessage(hits);
`;

function matchInWorker(pattern: string, flags: string, files: SearchFile[]): Promise<SearchHit[]> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(REGEX_WORKER_SOURCE, {
      eval: true,
      workerData: { pattern, flags, files, maxMatches: MAX_SEARCH_MATCHES },
      resourceLimits: { maxOldGenerationSizeMb: 256 },
    });
    const timer = setTimeout(() => {
      void worker.terminate();
      reject(new UserzError('tool_search_timeout', `Search took longer than ${SEARCH_TIMEOUT_MS} ms; use a simpler pattern`));
    }, SEARCH_TIMEOUT_MS);
    worker.once('message', (hits: SearchHit[]) => {
      clearTimeout(timer);
      void worker.terminate();
      resolve(hits);
    });
    worker.once('error', (e) => {
      clearTimeout(timer);
      reject(new UserzError('tool_search_failed', `Search failed: ${e.message.slice(0, 200)}`));
    });
  });
}

function matchLiteral(pattern: string, ignoreCase: boolean, files: SearchFile[]): SearchHit[] {
  const needle = ignoreCase ? pattern.toLowerCase() : pattern;
  const hits: SearchHit[] = [];
  for (const f of files) {
    const lines = f.text.split('\n');
    for (let i = 0; i < lines.length; i += 1) {
      const line = ignoreCase ? lines[i]!.toLowerCase() : lines[i]!;
      if (line.includes(needle)) {
        hits.push({ rel: f.rel, line: i + 1, text: lines[i]! });
        if (hits.length >= MAX_SEARCH_MATCHES) return hits;
      }
    }
  }
  return hits;
}

async function collectFiles(ws: Workspace, path: string | undefined): Promise<{ files: SearchFile[]; skipped: number; truncated: boolean }> {
  const { abs, rel } = await resolveExisting(ws, path ?? '.');
  const st = await stat(abs);
  const walked = st.isDirectory()
    ? await walkWorkspace(abs, rel, { recursive: true, maxEntries: MAX_SEARCH_FILES, deadline: Date.now() + SEARCH_TIMEOUT_MS })
    : { entries: [{ rel, abs, kind: 'file' as const }], truncated: false };
  const files: SearchFile[] = [];
  let total = 0;
  let skipped = 0;
  for (const e of walked.entries) {
    if (e.kind !== 'file') continue;
    const size = (await stat(e.abs)).size;
    if (size > MAX_SEARCH_FILE_BYTES || total + size > MAX_SEARCH_TOTAL_BYTES) {
      skipped += 1;
      continue;
    }
    const buf = await readFile(e.abs);
    if (buf.includes(0)) continue; // binary
    total += size;
    files.push({ rel: e.rel, text: buf.toString('utf8') });
  }
  return { files, skipped, truncated: walked.truncated };
}

export async function searchWorkspace(ws: Workspace, args: z.infer<typeof SearchArgs>): Promise<string> {
  const flags = args.ignoreCase ? 'i' : '';
  if (args.regex) {
    try {
      new RegExp(args.pattern, flags);
    } catch {
      throw new UserzError('tool_bad_pattern', 'Invalid regular expression');
    }
  }
  const { files, skipped, truncated } = await collectFiles(ws, args.path);
  const hits = args.regex ? await matchInWorker(args.pattern, flags, files) : matchLiteral(args.pattern, args.ignoreCase ?? false, files);
  const lines = hits.map((h) => `${h.rel}:${h.line}: ${h.text.length > MAX_LINE_SHOWN ? `${h.text.slice(0, MAX_LINE_SHOWN)}…` : h.text}`);
  if (hits.length >= MAX_SEARCH_MATCHES) lines.push(`[… stopped after ${MAX_SEARCH_MATCHES} matches]`);
  if (truncated) lines.push('[… not every file was searched: file count or time limit reached]');
  if (skipped > 0) lines.push(`[… ${skipped} large files skipped]`);
  return truncateOutput(lines.length === 0 ? 'no matches' : lines.join('\n'));
}
