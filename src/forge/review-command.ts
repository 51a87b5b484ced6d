/** `/userz …` at the start of a review text, comment or MR note: the text after it, or null when it is no command. */
export function userzCommand(body: unknown): string | null {
  if (typeof body !== 'string') return null;
  const m = /^\s*\/userz(?:\s+([\s\S]*))?$/i.exec(body);
  return m ? (m[1] ?? '').trim() : null;
}

/**
 * A mention of `@<handle>` (the GitHub App's slug, GitLab's bot username) anywhere in a
 * review text, comment or MR note: the text around it with the mention taken out, or null
 * when there is no real mention.
 *
 * A real mention is what the forge itself would notify: case-insensitive (logins are), not
 * inside a word (`foo@userz-app.com`, `a/@userz-app`), not the start of a longer name
 * (`@userz-app-other`, `@userz-app.com`, `@userz-app/team`). Mentions inside code spans
 * and fenced code blocks notify nobody, and a quoted line (`> …`) repeats someone's earlier
 * words rather than asking again, so neither counts; both stay in the text as context.
 */
export function mentionText(body: unknown, handle: string | undefined): string | null {
  if (typeof body !== 'string' || !handle) return null;
  const pattern = mentionPattern(handle);
  const visible = maskUnaskedParts(body);
  const spans = [...visible.matchAll(pattern)].map((m) => [m.index, m.index + m[0].length] as const);
  if (spans.length === 0) return null;
  let text = body.slice(0, spans[0]![0]);
  spans.forEach(([, end], i) => {
    // The mention and a `,` or `:` right after it go; the words either side join with one space.
    const after = body.slice(end, spans[i + 1]?.[0] ?? body.length).replace(/^[,:]?[ \t]*/, '');
    text = text.replace(/[ \t]+$/, '');
    text += /[^\s([{]$/.test(text) && /^[^\s.,;:!?)\]}]/.test(after) ? ` ${after}` : after;
  });
  return text.trim();
}

const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Before: start or a character that cannot end a word, address or path. After: nothing that could continue the name. */
function mentionPattern(handle: string): RegExp {
  return new RegExp(`(?<![A-Za-z0-9_.@/\\\\\`-])@${escapeRegExp(handle)}(?![A-Za-z0-9_/@-]|\\.[A-Za-z0-9_])`, 'gi');
}

/** The body with code (fenced blocks, inline spans) and quoted lines blanked out, same length, so positions still match. */
function maskUnaskedParts(body: string): string {
  const blank = (s: string) => s.replace(/[^\n]/g, ' ');
  return body
    .replace(/^[ \t]*(```|~~~)[^\n]*\n[\s\S]*?(?:^[ \t]*\1[^\n]*$|(?![\s\S]))/gm, blank)
    .replace(/(`{1,3})[^`]*?\1/g, blank)
    .replace(/^[ \t]*>[^\n]*$/gm, blank);
}
