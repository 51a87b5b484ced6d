/**
 * The text view that patterns match against: Unicode NFKC (fullwidth and other
 * compatibility forms fold to their plain letters), format characters (zero-width, bidi
 * controls, tag characters) and combining marks dropped, lower case, every run of
 * whitespace one space. Evasions such as "ｉｇｎｏｒｅ", "ig\u200Bnore" or "IGNORE\n\nall"
 * therefore meet the same pattern as "ignore all".
 *
 * Normalisation works one code point at a time so that each character of the view knows
 * which character of the original it came from; the wrapper uses that to cut a match out
 * of the original text without normalising the rest of it.
 */
export interface NormalizedText {
  text: string;
  /** origin[i] is the UTF-16 index in the original of the code point that produced text[i]. */
  origin: number[];
}

const DROPPED = /^[\p{Cf}\p{M}]$/u;

/**
 * Cyrillic and Greek letters that look like Latin ones and that NFKC leaves alone
 * ("іgnore" with a Cyrillic і). Only the matching view uses this; nothing is rewritten.
 */
const CONFUSABLES: Readonly<Record<string, string>> = {
  а: 'a',
  в: 'b',
  е: 'e',
  ё: 'e',
  к: 'k',
  м: 'm',
  н: 'h',
  о: 'o',
  р: 'p',
  с: 'c',
  т: 't',
  у: 'y',
  х: 'x',
  і: 'i',
  ї: 'i',
  ј: 'j',
  ѕ: 's',
  ԁ: 'd',
  ԛ: 'q',
  ԝ: 'w',
  һ: 'h',
  ӏ: 'l',
  ɡ: 'g',
  α: 'a',
  β: 'b',
  ε: 'e',
  η: 'n',
  ι: 'i',
  κ: 'k',
  ν: 'v',
  ο: 'o',
  ρ: 'p',
  τ: 't',
  υ: 'u',
  χ: 'x',
};
const SPACE = /^\s$/u;

export function normalizeWithOrigin(raw: string): NormalizedText {
  let text = '';
  const origin: number[] = [];
  let lastWasSpace = true; // drops leading whitespace
  let index = 0;
  for (const cp of raw) {
    const start = index;
    index += cp.length;
    const code = cp.charCodeAt(0);
    if (code < 0x80) {
      // ASCII, most of any report: NFKC leaves it alone and nothing in it is dropped or
      // confusable, so only case and whitespace change. Same result, without the per-character regexes.
      if (code === 0x20 || (code >= 0x09 && code <= 0x0d)) {
        if (lastWasSpace) continue;
        text += ' ';
        lastWasSpace = true;
      } else {
        text += code >= 0x41 && code <= 0x5a ? String.fromCharCode(code + 0x20) : cp;
        lastWasSpace = false;
      }
      origin.push(start);
      continue;
    }
    for (const folded of cp.normalize('NFKC').toLowerCase()) {
      if (DROPPED.test(folded)) continue;
      const ch = CONFUSABLES[folded] ?? folded;
      if (SPACE.test(ch)) {
        if (lastWasSpace) continue;
        text += ' ';
        origin.push(start);
        lastWasSpace = true;
        continue;
      }
      text += ch;
      for (let k = 0; k < ch.length; k += 1) origin.push(start);
      lastWasSpace = false;
    }
  }
  if (text.endsWith(' ')) {
    text = text.slice(0, -1);
    origin.pop();
  }
  return { text, origin };
}

export function normalizeForMatching(raw: string): string {
  return normalizeWithOrigin(raw).text;
}
