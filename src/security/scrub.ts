/**
 * Scrubs personal data and credentials out of text that leaves Userz for a place many
 * people can read: PR/MR bodies and titles, commit messages, chat replies. What it finds
 * (emails, phone numbers, card numbers, tokens and secrets) is replaced by a marker such
 * as `[redacted email]`.
 *
 * It is a safety net behind the rule that those places carry no report text, not a
 * licence to show report text: it finds the shapes listed here, nothing else (a name or
 * a street address passes). Matching runs on the NFKC form with invisible characters
 * removed, so `ｊｏｈｎ＠example.com` or an email with a zero-width space inside is found;
 * the returned text is that form too. Every pattern is linear in the input: starts are
 * pinned with look-behinds and repetitions are bounded, so hostile text cannot make it slow.
 */

export type ScrubKind = 'private_key' | 'credentials' | 'secret' | 'email' | 'iban' | 'card' | 'phone';

export interface Scrubbed {
  text: string;
  /** How many of each kind were replaced; kinds with none are absent. */
  found: Partial<Record<ScrubKind, number>>;
}

const MARKER: Readonly<Record<ScrubKind, string>> = {
  private_key: '[redacted private key]',
  credentials: '[redacted credentials]',
  secret: '[redacted secret]',
  email: '[redacted email]',
  iban: '[redacted bank account]',
  card: '[redacted card number]',
  phone: '[redacted phone number]',
};

/** Zero-width, bidi and other format characters that render as nothing. */
const INVISIBLE = /[\p{Default_Ignorable_Code_Point}\p{Bidi_Control}]/gu;

// PEM and PGP private keys; an unterminated block is scrubbed to the end of the text.
const PRIVATE_KEY = /-----BEGIN[A-Z0-9 ]{0,40}PRIVATE KEY(?: BLOCK)?-----[\s\S]*?(?:-----END[A-Z0-9 ]{0,40}PRIVATE KEY(?: BLOCK)?-----|$)/g;

// userinfo in a URL: https://user:password@host
const URL_CREDENTIALS = /\b([a-z][a-z0-9+.-]{1,20}:\/\/)[^\s/?#@:]{1,256}:[^\s/?#@]{1,256}@/gi;

/** Credentials recognisable by their issuer's prefix or shape. */
const KNOWN_TOKENS: readonly RegExp[] = [
  /gh[pousr]_[A-Za-z0-9]{16,}/g, // GitHub tokens (personal, OAuth, user-to-server, server-to-server, refresh)
  /github_pat_[A-Za-z0-9_]{20,}/g, // GitHub fine-grained personal access tokens
  /gl(?:pat|dt|rt|ptt|oas|cbt|imt|ft|soat|agent|wt|ffct)-[A-Za-z0-9_-]{16,}/g, // GitLab tokens
  /xox[a-z]-[A-Za-z0-9-]{8,}/g, // Slack bot, user, app-level and config tokens
  /xapp-[A-Za-z0-9-]{8,}/g,
  /\bhttps:\/\/hooks\.slack\.com\/[A-Za-z0-9/_-]+/g, // Slack incoming webhooks
  /\bhttps:\/\/(?:[a-z]+\.)?discord(?:app)?\.com\/api\/webhooks\/\d+\/[A-Za-z0-9_-]+/g,
  /\b(?:sk|pk|rk)_(?:live|test)_[A-Za-z0-9]{10,}/g, // Stripe keys
  /\bwhsec_[A-Za-z0-9+/=]{16,}/g, // Stripe webhook secrets
  /\bsk_[A-Za-z0-9_]{16,}/g, // Userz API keys
  /\bpub_[A-Za-z0-9]{16,}/g, // Userz widget keys
  /sk-(?:ant-|proj-|svcacct-|admin-)?[A-Za-z0-9_-]{20,}/g, // Anthropic and OpenAI keys
  /(?:AKIA|ASIA|ABIA|ACCA|AGPA|AIDA|AROA|AIPA|ANPA|ANVA|APKA)[A-Z0-9]{16}(?![A-Z0-9])/g, // AWS access key ids
  /\bAIza[0-9A-Za-z_-]{35}/g, // Google API keys
  /\bya29\.[0-9A-Za-z_-]{20,}/g, // Google OAuth access tokens
  /\bnpm_[A-Za-z0-9]{30,}/g,
  /\bpypi-[A-Za-z0-9_-]{40,}/g,
  /\bSG\.[A-Za-z0-9_-]{16,}\.[A-Za-z0-9_-]{16,}/g, // SendGrid
  /\b(?:AC|SK)[0-9a-fA-F]{32}\b/g, // Twilio
  /\b[MNO][A-Za-z0-9_-]{23,27}\.[A-Za-z0-9_-]{6}\.[A-Za-z0-9_-]{27,40}\b/g, // Discord bot tokens
  /eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*/g, // JWTs (header and payload are base64url JSON)
];

/** `Authorization: Bearer …` and the like: the scheme stays, the credential goes. */
const AUTH_SCHEME = /\b(Bearer|Basic|Token|Bot)(\s+)[A-Za-z0-9._~+/-]{16,}=*/g;

/** `password = hunter2`, `"api_key": "…"`: the name stays, a value that looks like a secret goes. */
// The name may sit inside a longer identifier (AWS_SECRET_ACCESS_KEY, DATABASE_PASSWORD).
const NAMED_SECRET =
  /\b([A-Za-z0-9_.-]{0,40}?(?:api[_-]?key|apikey|secret|password|passwd|pwd|passphrase|token|private[_-]?key|access[_-]?key|credentials?)[A-Za-z0-9_]{0,40}["']?\s{0,3}[:=]\s{0,3}["']?)([^\s"',;]{6,200}?)(?=[.!?)]{0,3}(?:[\s"',;]|$))/gi;

const LOCAL = '[\\p{L}\\p{N}._%+\\-]';
const AT = '(?:@|%40|&#0*64;|&#x0*40;|\\s{0,3}[\\[({]\\s{0,3}at\\s{0,3}[\\])}]\\s{0,3})';
const DOT = '(?:\\.|\\s{0,3}[\\[({]\\s{0,3}dot\\s{0,3}[\\])}]\\s{0,3})';
const LABEL = '[\\p{L}\\p{N}\\-]{1,63}';
// A match starts only where a run of local-part characters starts (the look-behind), so a
// long run costs one attempt, not one per character; the local part is then the whole run,
// however long, so nothing of a longer-than-allowed local part is left showing.
const LOCAL_START = '(?<![\\p{L}\\p{N}._%+\\-])';
const EMAIL = new RegExp(`${LOCAL_START}${LOCAL}+${AT}(?:${LABEL}${DOT}){1,8}\\p{L}{2,24}(?![\\p{L}\\p{N}\\-])`, 'giu');
// "john at example dot com": only with a common top-level domain, or ordinary prose matches.
const SPELLED_EMAIL = new RegExp(
  `${LOCAL_START}${LOCAL}+\\s{1,3}at\\s{1,3}(?:${LABEL}\\s{1,3}dot\\s{1,3}){1,4}(?:com|net|org|io|co|de|uk|fr|nl|es|it|edu|gov|info|me|dev|app|ai)\\b`,
  'giu',
);

// IBANs: country letters, two check digits, 11 to 30 letters and digits, together or in
// groups of four; checked with ISO 7064 mod 97. A word after the number can look like one
// more group, so shorter spans of whole groups are tried too.
const IBAN_CANDIDATE = /(?<![A-Za-z0-9])[A-Za-z]{2}\d{2}(?:[A-Za-z0-9]{11,30}|(?: [A-Za-z0-9]{4}){2,8}(?: [A-Za-z0-9]{1,3})?)(?![A-Za-z0-9])/g;

// 13 to 19 digits, single spaces or dashes allowed between them; checked with Luhn.
// A leading "+" makes it an international phone number instead.
const CARD_CANDIDATE = /(?<![\d.+])\d(?:[ -]?\d){12,40}(?![\d])/g;
// Dots or underscores only between groups of four (4111.1111.1111.1111): a decimal such as
// 3.14159265358979 is not a card.
const DOTTED_CARD = /(?<![\w.+-])\d{4}(?:[._]\d{4}){2}[._]\d{1,7}(?![\w]|[._]\d)/g;

// Phone numbers: "+" and 8 to 15 digits; North American 3-3-4 (with or without a leading 1);
// Indian mobiles; national numbers with a trunk 0 (9 to 12 digits); and any 7 to 15 digits
// right after a word such as "phone". Bare ten-digit numbers are left alone: 2147483647 is
// more often INT_MAX than a phone number in a summary of a code change.
const INTERNATIONAL_PHONE = /(?<![\w+])\+\d(?:[\s.()-]{0,2}\d){6,16}(?!\d)/g;
// The same dialled with the international prefix 00 instead of "+".
const PREFIXED_PHONE = /(?<![\w.+-])00[\s.-]?[1-9](?:[\s.()-]{0,2}\d){6,16}(?!\d)/g;
const NANP_PHONE = /(?<![\w.+-])(?:1[\s.-]?)?(?:\(\d{3}\)\s?|\d{3}[\s.-])\d{3}[\s.-]\d{4}(?![\w-]|\.\d)/g;
// Indian mobile numbers: ten digits from 6 to 9, usually written 5 + 5.
const INDIAN_MOBILE = /(?<![\w.+-])[6-9]\d{4}[\s-]?\d{5}(?![\w-]|\.\d)/g;
const NATIONAL_PHONE = /(?<![\w.+-])0\d{1,4}(?:[\s.-]?\d{2,4}){2,4}(?![\w-]|\.\d)/g;
const LABELLED_PHONE = /\b((?:phone|tel|telephone|mobile|cell|call me|text me|whatsapp|sms|fax)\b[^\d\n]{0,20}?)(\+?\d[\d\s().-]{5,24}\d)/gi;

// Long hex (old GitHub tokens, API secrets, private keys) and long base64 runs that look random.
const LONG_HEX = /(?<![\w-])(?:0x)?[0-9a-fA-F]{32,}(?![\w-])/g;
const BASE64_RUN = /(?<![A-Za-z0-9+/_=-])[A-Za-z0-9+/_-]{32,}={0,2}(?![A-Za-z0-9+/_=-])/g;

export function scrubText(text: string): string {
  return scrub(text).text;
}

export function scrub(input: string): Scrubbed {
  const found: Partial<Record<ScrubKind, number>> = {};
  const mark = (kind: ScrubKind): string => {
    found[kind] = (found[kind] ?? 0) + 1;
    return MARKER[kind];
  };
  let text = input.normalize('NFKC').replace(INVISIBLE, '');

  text = text.replace(PRIVATE_KEY, () => mark('private_key'));
  text = text.replace(URL_CREDENTIALS, (_m, scheme: string) => `${scheme}${mark('credentials')}@`);
  for (const pattern of KNOWN_TOKENS) text = text.replace(pattern, () => mark('secret'));
  text = text.replace(AUTH_SCHEME, (_m, scheme: string, space: string) => `${scheme}${space}${mark('secret')}`);
  text = text.replace(NAMED_SECRET, (m, name: string, value: string) => (looksLikeSecretValue(value) ? `${name}${mark('secret')}` : m));
  text = text.replace(EMAIL, () => mark('email'));
  text = text.replace(SPELLED_EMAIL, () => mark('email'));
  text = text.replace(IBAN_CANDIDATE, (m) => scrubIban(m, () => mark('iban')));
  text = text.replace(CARD_CANDIDATE, (m) => scrubCards(m, () => mark('card')));
  text = text.replace(DOTTED_CARD, (m) => (isCardNumber(m.replace(/[._]/g, '')) ? mark('card') : m));
  text = text.replace(INTERNATIONAL_PHONE, (m) => (digitCount(m) >= 8 && digitCount(m) <= 15 ? mark('phone') : m));
  text = text.replace(PREFIXED_PHONE, (m) => (digitCount(m) - 2 >= 8 && digitCount(m) - 2 <= 15 ? mark('phone') : m));
  text = text.replace(NANP_PHONE, () => mark('phone'));
  text = text.replace(INDIAN_MOBILE, () => mark('phone'));
  text = text.replace(NATIONAL_PHONE, (m) => (digitCount(m) >= 9 && digitCount(m) <= 12 ? mark('phone') : m));
  text = text.replace(LABELLED_PHONE, (m, label: string, number: string) =>
    digitCount(number) >= 7 && digitCount(number) <= 15 ? `${label}${mark('phone')}` : m,
  );
  text = text.replace(LONG_HEX, (m) => (/\d/.test(m) && /[a-f]/i.test(m) ? mark('secret') : m));
  text = text.replace(BASE64_RUN, (m) => scrubRandomRun(m, () => mark('secret')));
  return { text, found };
}

function digitCount(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0x30 && c <= 0x39) n += 1;
  }
  return n;
}

/**
 * Replaces each card number inside a run of digit groups. The run may hold more than one
 * number, or a number next to other digits ("4111 1111 1111 1111 12/29"), so every span
 * of whole groups is tried, longest first.
 */
function scrubCards(run: string, marker: () => string): string {
  const groups = run.split(/[ -]/);
  // Group k's digits are all.slice(at[k], at[k + 1]): a span is one slice, never a join.
  const all = groups.join('');
  const at = [0];
  for (const g of groups) at.push(at[at.length - 1]! + g.length);
  const out: string[] = [];
  let replaced = false;
  let i = 0;
  while (i < groups.length) {
    // Only spans of 13 to 19 digits can be a card, so a group has at most 7 spans to try.
    let matched = 0;
    let last = i;
    while (last < groups.length && at[last + 1]! - at[i]! <= MAX_CARD_DIGITS) last++;
    for (let j = last; j > i && matched === 0 && at[j]! - at[i]! >= MIN_CARD_DIGITS; j--) {
      if (isCardNumber(all.slice(at[i], at[j]))) matched = j - i;
    }
    if (matched > 0) {
      out.push(marker());
      replaced = true;
      i += matched;
    } else {
      out.push(groups[i]!);
      i += 1;
    }
  }
  // A run with no card number is returned as it was, separators and all.
  return replaced ? out.join(' ') : run;
}

/** The longest span of whole space-separated groups from the start that is an IBAN, replaced; the rest kept. */
function scrubIban(candidate: string, marker: () => string): string {
  const groups = candidate.split(' ');
  for (let k = groups.length; k > 0; k--) {
    const compact = groups.slice(0, k).join('');
    if (compact.length < 15) break;
    if (isIban(compact)) return [marker(), ...groups.slice(k)].join(' ');
  }
  return candidate;
}

/** 15 to 34 letters and digits whose mod-97 check (first four moved to the end, A=10…Z=35) is 1. */
export function isIban(compact: string): boolean {
  if (compact.length < 15 || compact.length > 34 || !/^[A-Za-z]{2}\d{2}[A-Za-z0-9]+$/.test(compact)) return false;
  const rearranged = (compact.slice(4) + compact.slice(0, 4)).toUpperCase();
  let rest = 0;
  for (let i = 0; i < rearranged.length; i++) {
    const c = rearranged.charCodeAt(i);
    const value = c <= 0x39 ? c - 0x30 : c - 0x41 + 10;
    rest = (value >= 10 ? rest * 100 + value : rest * 10 + value) % 97;
  }
  return rest === 1;
}

const MIN_CARD_DIGITS = 13;
const MAX_CARD_DIGITS = 19;

/** Card lengths are 13 to 19 digits; issuers' first digits are 2 to 6; Luhn checksum. */
export function isCardNumber(digits: string): boolean {
  if (digits.length < MIN_CARD_DIGITS || digits.length > MAX_CARD_DIGITS || !/^[2-6]\d+$/.test(digits)) return false;
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    let d = digits.charCodeAt(digits.length - 1 - i) - 0x30;
    if (i % 2 === 1) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return sum % 10 === 0;
}

function looksLikeSecretValue(value: string): boolean {
  if (value.startsWith('[redacted')) return false;
  return value.length >= 12 || /[\d\W_]/.test(value);
}

/**
 * A run with a word between slashes is a path or URL (`example/reports/…`): each segment is
 * judged alone, so a secret at the end of a URL still goes and the path stays.
 */
function scrubRandomRun(run: string, marker: () => string): string {
  if (!run.includes('/')) return looksRandom(run) ? marker() : run;
  const segments = run.split('/');
  if (!segments.some((seg) => /^[a-z][a-z._-]{2,}$/.test(seg))) return looksRandom(run) ? marker() : run;
  return segments.map((seg) => (looksRandom(seg) ? marker() : seg)).join('/');
}

/**
 * Random-looking: at least 32 characters mixing two of lower case, upper case and digits,
 * and not made of words. In identifiers and paths (`useCheckoutTotal2`, `OrderDetailsPage`)
 * at least 70% of the letters and digits sit in word-shaped pieces (a capital and three or
 * more lower-case letters, or an acronym) and a third of the letters are vowels; in random
 * base64 the median is a third in such pieces and a fifth vowels. Measured on 20,000 random
 * strings each: 32 base64 characters pass as words 0.6% of the time, 40 characters 0.3%,
 * 32 lower-case letters and digits 4%.
 */
function looksRandom(run: string): boolean {
  if (run.length < 32) return false;
  let classes = 0;
  let counted = 0;
  let letters = 0;
  let vowels = 0;
  for (let i = 0; i < run.length; i++) {
    const cls = charClass(run.charCodeAt(i));
    if (cls < 0) continue;
    classes |= 1 << cls;
    counted += 1;
    if (cls < 2) {
      letters += 1;
      if (VOWELS.includes(run[i]!)) vowels += 1;
    }
  }
  const kinds = (classes & 1) + ((classes >> 1) & 1) + ((classes >> 2) & 1);
  if (counted < 24 || kinds < 2) return false;
  const inWords = (run.match(WORD_PIECE) ?? []).reduce((n, w) => n + w.length, 0);
  return inWords / counted < 0.7 || vowels / Math.max(1, letters) < 0.25;
}

const VOWELS = 'aeiouAEIOU';
const WORD_PIECE = /[A-Z]?[a-z]{3,}|[A-Z]{2,}(?![a-z])/g;

/** 0 lower, 1 upper, 2 digit; -1 for separators, which say nothing about randomness. */
function charClass(c: number): number {
  if (c >= 0x61 && c <= 0x7a) return 0;
  if (c >= 0x41 && c <= 0x5a) return 1;
  if (c >= 0x30 && c <= 0x39) return 2;
  return -1;
}
