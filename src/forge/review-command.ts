/** `/userz …` at the start of a review text, comment or MR note: the text after it, or null when it is no command. */
export function userzCommand(body: unknown): string | null {
  if (typeof body !== 'string') return null;
  const m = /^\s*\/userz(?:\s+([\s\S]*))?$/i.exec(body);
  return m ? (m[1] ?? '').trim() : null;
}
