/**
 * `userz guardrail check [--policy FILE]`: reads a change set as JSON lines on stdin,
 * prints one line per rejected path, exits 0 (allowed), 1 (rejected) or 2 (bad input or
 * policy, one line on stderr). Lets a maintainer try a policy against a list of paths
 * before Userz ever runs on the repository.
 *
 * Input line: {"path": "...", "oldPath"?: "...", "mode"?: "100644", "oldMode"?: "...",
 * "status"?: "added|modified|deleted|renamed", "size"?: 123}
 * Output line: <path as a JSON string> TAB <rule ids, comma-separated> TAB <reasons>
 */
import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { errorMessage } from '../errors.js';
import { FILE_MODE, type ChangeSet, type ChangeSetEntry } from './change-set.js';
import { checkChangeSet } from './check.js';
import { compileRules } from './compile.js';
import { MAX_POLICY_BYTES, parsePolicy } from './policy.js';
import { loadDefaultRules } from './rules.js';
import { CHANGE_SET_RULES, type Violation } from './verdict.js';

export interface GuardrailCheckOptions {
  policyFile?: string;
  stdin: NodeJS.ReadableStream;
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
}

export const EXIT = { allowed: 0, rejected: 1, badInput: 2 } as const;
const MAX_LINE_BYTES = 64 * 1024;

const ChangeLine = z.strictObject({
  path: z.string(),
  oldPath: z.string().optional(),
  mode: z.string().optional(),
  oldMode: z.string().optional(),
  status: z.enum(['added', 'modified', 'deleted', 'renamed']).optional(),
  size: z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER).optional(),
});

class BadInput extends Error {}

export async function runGuardrailCheck(opts: GuardrailCheckOptions): Promise<number> {
  try {
    const policy = opts.policyFile === undefined ? undefined : parsePolicy(await readPolicyFile(opts.policyFile));
    const rules = compileRules(await loadDefaultRules(), policy);
    const changeSet = await readChangeSet(opts.stdin);
    const verdict = checkChangeSet(changeSet, rules);
    await write(opts.stdout, formatViolations(verdict.violations));
    return verdict.allowed ? EXIT.allowed : EXIT.rejected;
  } catch (e) {
    await write(opts.stderr, `userz guardrail check: ${errorMessage(e).replace(/[\r\n]+/g, ' ')}\n`);
    return EXIT.badInput;
  }
}

async function readPolicyFile(file: string): Promise<string> {
  const bytes = await readFile(file);
  // Checked here as well as in parsePolicy so a huge file is not decoded first.
  if (bytes.length > MAX_POLICY_BYTES) throw new BadInput(`policy file is larger than ${MAX_POLICY_BYTES} bytes`);
  return decodeUtf8(bytes, 'policy file');
}

async function readChangeSet(stdin: NodeJS.ReadableStream): Promise<ChangeSet> {
  const entries: ChangeSetEntry[] = [];
  let lineNo = 0;
  let pending: Buffer[] = [];
  let pendingBytes = 0;

  const takeLine = (bytes: Buffer): void => {
    lineNo += 1;
    const entry = parseLine(bytes, lineNo);
    if (entry !== undefined) entries.push(entry);
  };

  for await (const chunk of stdin) {
    let buf = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : (chunk as Buffer);
    for (let nl = buf.indexOf(0x0a); nl !== -1; nl = buf.indexOf(0x0a)) {
      if (pendingBytes + nl > MAX_LINE_BYTES) throw new BadInput(`line ${lineNo + 1}: longer than ${MAX_LINE_BYTES} bytes`);
      takeLine(Buffer.concat([...pending, buf.subarray(0, nl)]));
      pending = [];
      pendingBytes = 0;
      buf = buf.subarray(nl + 1);
    }
    pendingBytes += buf.length;
    if (pendingBytes > MAX_LINE_BYTES) throw new BadInput(`line ${lineNo + 1}: longer than ${MAX_LINE_BYTES} bytes`);
    if (buf.length > 0) pending.push(buf);
  }
  if (pendingBytes > 0) takeLine(Buffer.concat(pending));

  const totalBytes = entries.reduce((sum, e) => sum + e.size, 0);
  return { baseCommit: '', entries, totalBytes };
}

function parseLine(bytes: Buffer, lineNo: number): ChangeSetEntry | undefined {
  const text = decodeUtf8(bytes, `line ${lineNo}`).replace(/\r$/, '');
  if (text.trim() === '') return undefined;
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new BadInput(`line ${lineNo}: not valid JSON (${errorMessage(e)})`);
  }
  const parsed = ChangeLine.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const where = issue.path.length > 0 ? `"${issue.path.join('.')}": ` : '';
    throw new BadInput(`line ${lineNo}: ${where}${issue.message}`);
  }
  const line = parsed.data;
  return {
    path: line.path,
    oldPath: line.oldPath,
    status: line.status ?? (line.oldPath === undefined ? 'modified' : 'renamed'),
    mode: line.mode ?? FILE_MODE.file,
    oldMode: line.oldMode,
    size: line.size ?? 0,
  };
}

function decodeUtf8(bytes: Buffer, what: string): string {
  try {
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(bytes);
  } catch {
    throw new BadInput(`${what}: not valid UTF-8`);
  }
}

/** One line per path; paths are JSON-quoted so a newline in a name cannot forge a line. */
function formatViolations(violations: readonly Violation[]): string {
  // Keyed by the printed form, so a file with an empty name never merges with the
  // change-set-wide line.
  const byPath = new Map<string, Violation[]>();
  for (const v of violations) {
    const shown = CHANGE_SET_RULES.has(v.ruleId) ? '(change set)' : quotePath(v.path);
    const list = byPath.get(shown);
    if (list === undefined) byPath.set(shown, [v]);
    else list.push(v);
  }
  let out = '';
  for (const [shown, list] of byPath) {
    out += `${shown}\t${list.map((v) => v.ruleId).join(',')}\t${list.map((v) => v.reason).join(' ')}\n`;
  }
  return out;
}

/** JSON string with everything outside printable ASCII escaped: no bidi or invisible tricks in a terminal. */
function quotePath(path: string): string {
  return JSON.stringify(path).replace(/[^\u0020-\u007e]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

function write(stream: NodeJS.WritableStream, text: string): Promise<void> {
  if (text === '') return Promise.resolve();
  return new Promise((resolve, reject) => {
    stream.write(text, (err) => (err ? reject(err) : resolve()));
  });
}
