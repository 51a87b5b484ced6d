/**
 * HTML for the console, escaped by default. Everything a reporter wrote is hostile and now
 * reaches a maintainer's browser, so there is one way to build markup: the `html` tag,
 * which escapes every interpolated value unless it is already `Html` made by this module.
 * Arrays of `Html` are joined; null, undefined and false render nothing.
 *
 *   html`<td>${report.text}</td>`            → the text, inert
 *   html`<ul>${items.map((i) => html`<li>${i}</li>`)}</ul>`
 *
 * Never build a URL attribute from report content: hrefs are our own routes (`href()`).
 */
export class Html {
  constructor(readonly value: string) {}
  toString(): string {
    return this.value;
  }
}

type Part = Html | string | number | bigint | boolean | null | undefined | Date | readonly Part[];

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;', '`': '&#96;' };

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"'`]/g, (c) => ESCAPES[c]!);
}

function render(part: Part): string {
  if (part === null || part === undefined || part === false) return '';
  if (part instanceof Html) return part.value;
  if (Array.isArray(part)) return part.map(render).join('');
  if (part instanceof Date) return escapeHtml(part.toISOString());
  return escapeHtml(String(part as string | number | bigint | boolean));
}

export function html(strings: TemplateStringsArray, ...values: Part[]): Html {
  let out = strings[0]!;
  for (let i = 0; i < values.length; i++) out += render(values[i]) + strings[i + 1]!;
  return new Html(out);
}

/** A console path with its query, each value percent-encoded: `href('/reports', { state: 'x' })`. */
export function href(path: string, query: Record<string, string | number | undefined | null> = {}): string {
  const q = Object.entries(query).filter((e): e is [string, string | number] => e[1] !== undefined && e[1] !== null && e[1] !== '');
  return q.length === 0 ? path : `${path}?${q.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(String(v))}`).join('&')}`;
}
