// The on-device scrubber: console lines, failed requests and breadcrumbs pass through it
// before they leave the page (the server scrubs again with src/security/scrub.ts).
// Small on purpose: emails, card numbers (Luhn-checked), and token shapes.

const EMAIL = /[\w.+-]{1,64}@[\w-]{1,63}(?:\.[\w-]{1,63})+/g;
const CARD = /(?<!\d)\d(?:[ -]?\d){12,18}(?!\d)/g;
const TOKENS = [
  /\b(?:Bearer|Basic|Token)\s+[\w.~+/=-]{8,}/gi,
  /\beyJ[\w-]{5,}\.[\w-]{5,}\.[\w-]{5,}/g, // JWT
  /\b(?:sk|pk|rk|pub|ghp|gho|ghs|ghu|glpat|xox[abpr])[_-][\w-]{10,}/g,
  /\b[0-9a-f]{32,}\b/gi,
  /(?<![\w+/=-])[\w+/-]{40,}={0,2}(?![\w+/=-])/g,
];

function luhn(digits: string): boolean {
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    let d = digits.charCodeAt(digits.length - 1 - i) - 48;
    if (i % 2 === 1) d = d * 2 > 9 ? d * 2 - 9 : d * 2;
    sum += d;
  }
  return sum % 10 === 0;
}

export function scrubText(text: string): string {
  let out = text.replace(EMAIL, '[email]');
  out = out.replace(CARD, (m) => (luhn(m.replace(/\D/g, '')) ? '[card]' : m));
  for (const t of TOKENS) out = out.replace(t, '[token]');
  return out;
}

/** Header and JSON-key names whose values never leave the page (Gleap's setNetworkLogPropsToIgnore). */
export const DEFAULT_DENYLIST = [
  'authorization',
  'cookie',
  'set-cookie',
  'x-api-key',
  'x-userz-key',
  'x-userz-user-token',
  'x-userz-status-token',
  'password',
  'passwd',
  'secret',
  'token',
  'access_token',
  'refresh_token',
  'api_key',
  'apikey',
  'card',
  'cardnumber',
  'cvv',
  'cvc',
  'ssn',
];

/** A JSON body with denylisted keys' values replaced, then scrubbed as text; not JSON: scrubbed as text. */
export function scrubBody(body: string, deny: Set<string>): string {
  try {
    const walk = (v: unknown): unknown => {
      if (Array.isArray(v)) return v.map(walk);
      if (v && typeof v === 'object') {
        const o: Record<string, unknown> = {};
        for (const [k, x] of Object.entries(v)) o[k] = deny.has(k.toLowerCase()) ? '[scrubbed]' : walk(x);
        return o;
      }
      return v;
    };
    return scrubText(JSON.stringify(walk(JSON.parse(body))));
  } catch {
    return scrubText(body);
  }
}

export function scrubHeaders(headers: Iterable<[string, string]>, deny: Set<string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of headers) out[k.toLowerCase()] = deny.has(k.toLowerCase()) ? '[scrubbed]' : scrubText(v);
  return out;
}

/** The URL without query values (keys stay, so `?q=` still says a search ran) and without the fragment. */
export function stripQueryValues(raw: string, base: string): string {
  try {
    const u = new URL(raw, base);
    const keys = [...new Set([...u.searchParams.keys()])];
    return scrubText(`${u.origin}${u.pathname}${keys.length ? `?${keys.map((k) => `${encodeURIComponent(k)}=`).join('&')}` : ''}`);
  } catch {
    return scrubText(raw.split(/[?#]/)[0] ?? '');
  }
}
