import type { ChangeSet } from '../../guardrail/index.js';
import { html, type Html } from '../html.js';

/**
 * The run log and the change set as text a maintainer reads: the model saw report text and
 * wrote code from it, so every string here is treated as hostile and escaped; control
 * characters in paths are shown as escapes rather than passed to the page.
 */

const MAX_ENTRIES = 400;
const MAX_TEXT = 8_000;
const MAX_DIFF_LINES_PER_FILE = 400;
const MAX_DIFF_FILES = 100;

/** Control and invisible characters made visible (`\u0007`), so a path cannot hide what it is. */
export function visible(text: string): string {
  return text.replace(
    /[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}

function cut(text: string, max = MAX_TEXT): string {
  return text.length > max ? `${text.slice(0, max)}\n… (${(text.length - max).toLocaleString('en-US')} more characters)` : text;
}

type Entry = Record<string, unknown> & { at?: unknown; kind?: unknown };

/** The transcript (JSON lines, broker/transcript.ts) as a list of steps. */
export function renderTranscript(data: Buffer): Html {
  const lines = data
    .toString('utf8')
    .split('\n')
    .filter((l) => l.trim() !== '');
  const entries: Entry[] = lines.map((l) => {
    try {
      const v: unknown = JSON.parse(l);
      return typeof v === 'object' && v !== null ? (v as Entry) : { kind: 'unreadable' };
    } catch {
      return { kind: 'unreadable' };
    }
  });
  if (entries.length === 0) return html`<p class="muted">The run log is empty.</p>`;
  const shown = entries.slice(0, MAX_ENTRIES);
  return html`<ol class="transcript">
      ${shown.map((e) => html`<li><span class="muted">${typeof e.at === 'string' ? e.at.replace('T', ' ').slice(0, 19) : ''}</span> ${entryBody(e)}</li>`)}
    </ol>
    ${entries.length > shown.length ? html`<p class="muted">${entries.length - shown.length} more entries not shown.</p>` : ''}`;
}

function entryBody(e: Entry): Html {
  switch (e.kind) {
    case 'task':
      return html`<strong>Task</strong>
        <pre>${cut(JSON.stringify(e.task, null, 2))}</pre>`;
    case 'model_request':
      return html`<strong>To the model</strong>${Array.isArray(e.messages) ? e.messages.map(message) : ''}`;
    case 'model_response': {
      const r = (typeof e.response === 'object' && e.response !== null ? e.response : {}) as Record<string, unknown>;
      const u = (typeof r.usage === 'object' && r.usage !== null ? r.usage : {}) as Record<string, unknown>;
      return html`<strong>Model</strong>
        <span class="muted"
          >${String(u.inputTokens ?? '?')} in, ${String(u.outputTokens ?? '?')} out${typeof e.costUsd === 'number' ? `, $${e.costUsd.toFixed(4)}` : ''}</span
        >
        ${typeof r.content === 'string' && r.content !== '' ? html`<pre>${cut(r.content)}</pre>` : ''} ${toolCalls(r.toolCalls)}`;
    }
    case 'model_error':
      return html`<strong>Model error</strong> <span class="mono">${String(e.code)}</span>${e.retryable ? ' (retried)' : ''}`;
    case 'tool_result':
      return html`<strong>Tool ${String(e.name)}</strong> ${e.ok ? 'ok' : html`<span class="state bad">failed</span>`}
        <pre>${cut(String(e.output ?? ''))}</pre>`;
    case 'runner_done':
      return html`<strong>Runner done</strong>
        <pre>${cut(String(e.summary ?? ''))}</pre>`;
    case 'runner_failed':
    case 'protocol_error':
      return html`<strong>${e.kind === 'runner_failed' ? 'Runner failed' : 'Protocol error'}</strong> <span class="mono">${String(e.code)}</span>
        <pre>${cut(String(e.message ?? ''))}</pre>`;
    case 'abort':
      return html`<strong>Aborted</strong> <span class="mono">${String(e.reason)}</span>`;
    default:
      return html`<strong>${String(e.kind ?? 'entry')}</strong>
        <pre>${cut(JSON.stringify(e, null, 2))}</pre>`;
  }
}

function message(m: unknown): Html {
  const msg = (typeof m === 'object' && m !== null ? m : {}) as Record<string, unknown>;
  const who = msg.role === 'tool' ? `tool ${String(msg.name)}` : String(msg.role);
  return html`<div class="message">
    <span class="muted">${who}</span>
    <pre>${cut(String(msg.content ?? ''))}</pre>
    ${toolCalls(msg.toolCalls)}
  </div>`;
}

function toolCalls(calls: unknown): Html {
  if (!Array.isArray(calls) || calls.length === 0) return html``;
  return html`<ul class="tool-calls">
    ${calls.map((c: unknown) => {
      const call = (typeof c === 'object' && c !== null ? c : {}) as Record<string, unknown>;
      return html`<li>
        <span class="mono">${String(call.name)}</span>
        <pre>${cut(JSON.stringify(call.arguments ?? {}, null, 2))}</pre>
      </li>`;
    })}
  </ul>`;
}

/**
 * The change set as a diff. The stored change set holds each file's new content only, so
 * an added or modified file reads as its new lines, a deleted one as its path.
 */
export function renderChangeSet(cs: ChangeSet): Html {
  if (cs.entries.length === 0) return html`<p class="muted">The change set is empty.</p>`;
  const shown = cs.entries.slice(0, MAX_DIFF_FILES);
  return html`<p class="muted">
      ${cs.entries.length} file${cs.entries.length === 1 ? '' : 's'}, ${cs.totalBytes.toLocaleString('en-US')} bytes, on ${cs.baseCommit.slice(0, 12)}.
    </p>
    ${shown.map((e) => {
      const title = e.status === 'renamed' && e.oldPath !== undefined ? `${visible(e.oldPath)} → ${visible(e.path)}` : visible(e.path);
      return html`<section class="diff-file">
        <h3 class="mono">
          ${e.status} ${title} <span class="muted">${e.mode}${e.oldMode && e.oldMode !== e.mode ? ` (was ${e.oldMode})` : ''}, ${e.size} bytes</span>
        </h3>
        ${fileBody(e)}
      </section>`;
    })}
    ${cs.entries.length > shown.length ? html`<p class="muted">${cs.entries.length - shown.length} more files not shown.</p>` : ''}`;
}

function fileBody(e: ChangeSet['entries'][number]): Html {
  if (e.status === 'deleted' || !e.content) return html``;
  if (e.mode === '120000') return html`<pre class="diff">link to ${visible(e.content.toString('utf8'))}</pre>`;
  if (e.content.includes(0)) return html`<p class="muted">Binary file.</p>`;
  const lines = e.content.toString('utf8').split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  const shown = lines.slice(0, MAX_DIFF_LINES_PER_FILE);
  // Each line is a block of its own (its background the full width): nothing between them.
  const more = lines.length > shown.length ? html`<span>… ${lines.length - shown.length} more lines</span>` : html``;
  return html`<pre class="diff">${shown.map((l) => html`<span class="add">+${l}</span>`)}${more}</pre>`;
}
