import { html, type Html } from './html.js';

/**
 * Small pieces the console's pages share: times, state badges, who reported. Everything
 * here goes through the `html` tag, so a value taken from a report stays text.
 */

/** A time as `2026-12-02 03:41 UTC`, machine-readable in `datetime`. */
export function time(at: Date | null | undefined): Html {
  if (!at) return html`<span class="muted">—</span>`;
  const iso = at.toISOString();
  return html`<time datetime="${iso}">${iso.slice(0, 16).replace('T', ' ')} UTC</time>`;
}

/** Like `time` with seconds: for timelines, where steps are seconds apart. */
export function preciseTime(at: Date): Html {
  const iso = at.toISOString();
  return html`<time datetime="${iso}">${iso.slice(0, 19).replace('T', ' ')} UTC</time>`;
}

const TONE: Record<string, 'good' | 'bad' | 'warn' | undefined> = {
  pr_opened: 'good',
  merged: 'good',
  approved: 'good',
  triaged: undefined,
  benign: 'good',
  pr_failed: 'bad',
  errored: 'bad',
  rejected: 'bad',
  malicious_injection: 'bad',
  abuse: 'bad',
  spam: 'warn',
  off_topic: 'warn',
  needs_review: 'warn',
  changes_requested: 'warn',
  closed: 'warn',
  passed: 'good',
  failed: 'bad',
  refused: 'bad',
  allowed: 'good',
};

/** A state, label or review state as a badge; the word is always shown, color only helps. */
export function badge(value: string | null | undefined): Html {
  if (!value) return html`<span class="muted">—</span>`;
  const tone = TONE[value];
  return html`<span class="state${tone ? ` ${tone}` : ''}">${value.replace(/_/g, ' ')}</span>`;
}

/** Who reported, as the channel named them: name, email, or id (hostile text). */
export function reporterName(reporter: Record<string, unknown> | null | undefined): string {
  if (!reporter) return '';
  for (const field of ['name', 'email', 'username', 'id', 'userId']) {
    const v = reporter[field];
    if ((typeof v === 'string' && v.trim() !== '') || typeof v === 'number') return String(v);
  }
  return '';
}

/** A value of unknown shape (reporter fields, custom context) as one line of text. */
export function plain(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return JSON.stringify(value);
}
