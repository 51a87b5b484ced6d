// The reporter's browser facts, read when the report is sent.
export interface Environment {
  browser?: string;
  os?: string;
  viewport: { width: number; height: number };
  devicePixelRatio: number;
  language?: string;
  timeZone?: string;
  release?: string;
  custom?: Record<string, string | number | boolean | null>;
}

function browserOf(ua: string): string | undefined {
  const m = /(Edg|OPR|Firefox|Chrome|Version)\/(\d+)/.exec(ua);
  if (!m) return undefined;
  const name = { Edg: 'Edge', OPR: 'Opera', Firefox: 'Firefox', Chrome: /Chromium/.test(ua) ? 'Chromium' : 'Chrome', Version: 'Safari' }[m[1]!];
  return `${name} ${m[2]}`;
}

function osOf(ua: string): string | undefined {
  if (/Windows NT/.test(ua)) return 'Windows';
  if (/iPhone|iPad/.test(ua)) return 'iOS';
  if (/Mac OS X/.test(ua)) return 'macOS';
  if (/Android/.test(ua)) return 'Android';
  if (/CrOS/.test(ua)) return 'ChromeOS';
  if (/Linux/.test(ua)) return 'Linux';
  return undefined;
}

export function readEnvironment(win: Window, context: { release?: string; custom: Record<string, string | number | boolean | null> }): Environment {
  const ua = win.navigator.userAgent;
  let timeZone: string | undefined;
  try {
    timeZone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  } catch {
    timeZone = undefined;
  }
  const env: Environment = {
    browser: browserOf(ua),
    os: osOf(ua),
    viewport: { width: win.innerWidth, height: win.innerHeight },
    devicePixelRatio: win.devicePixelRatio || 1,
    language: win.navigator.language,
    timeZone,
  };
  if (context.release) env.release = context.release;
  if (Object.keys(context.custom).length) env.custom = context.custom;
  return env;
}

/** Custom context: at most 30 keys and 4 KB of JSON; what does not fit is left out (and said so in the console). */
export const CONTEXT_MAX_KEYS = 30;
export const CONTEXT_MAX_BYTES = 4096;

export function mergeContext(
  into: Record<string, string | number | boolean | null>,
  values: Record<string, unknown>,
): Record<string, string | number | boolean | null> {
  const out = { ...into };
  for (const [k, v] of Object.entries(values)) {
    if (k === 'release' || k === '__proto__') continue;
    const value =
      v === null || typeof v === 'number' || typeof v === 'boolean' ? v : typeof v === 'string' ? v.slice(0, 500) : (JSON.stringify(v)?.slice(0, 500) ?? null);
    const next = { ...out, [k]: value };
    if (Object.keys(next).length > CONTEXT_MAX_KEYS || JSON.stringify(next).length > CONTEXT_MAX_BYTES) continue;
    out[k] = value;
  }
  return out;
}
