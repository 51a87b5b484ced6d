// The widget's engine, shared by the script tag (widget.ts) and the npm package (index.ts):
// capture (console, failed requests, breadcrumbs), the panel, sending with retry, and the
// reporter's own reports with their status.
import { captureMasked, encodeCanvas, type ScreenshotLib } from './capture.js';
import { BreadcrumbTrail } from './breadcrumbs.js';
import { ConsoleBuffer } from './console-buffer.js';
import { mergeContext, readEnvironment } from './environment.js';
import { ReportHistory, type Phase } from './history.js';
import { NetworkRecorder } from './network.js';
import { Outbox, type PendingReport, type SendResult } from './outbox.js';
import { Panel, type Theme } from './panel.js';
import { DEFAULT_DENYLIST, scrubText } from './scrub.js';
import { DEFAULT_STRINGS, type Strings } from './strings.js';

export interface UserzOptions {
  /** The App's public key (`pub_…`). */
  key: string;
  /** Origin of the Userz server; defaults to the page's own origin. */
  endpoint?: string;
  /** Private mode: the HS256 token the host's backend signed for the signed-in user. */
  userToken?: string | null;
  accent?: string;
  theme?: Theme['mode'];
  position?: Theme['position'];
  buttonLabel?: string;
  /** false: no floating button; open the panel from your own button with `open()`. */
  button?: boolean;
  strings?: Partial<Strings>;
  /** Elements to black out in screenshots, besides password fields and `[data-userz-mask]`. */
  maskSelector?: string;
  /** Black out all text in screenshots. */
  maskAllText?: boolean;
  /** Opt-ins for failed requests' headers and bodies, and extra names to scrub. */
  network?: { captureHeaders?: boolean; captureBodies?: boolean; denylist?: string[] };
  release?: string;
  context?: Record<string, unknown>;
}

export interface UserzUser {
  id?: string;
  email?: string;
  name?: string;
}

export interface UserzApi {
  open(): void;
  close(): void;
  /** Pre-fills (and hides) the reporter's name and email; `null` forgets them. */
  identify(user: UserzUser | null): void;
  /** The App's release and custom key-values (at most 30 keys, 4 KB). */
  setContext(values: Record<string, unknown> & { release?: string }): void;
  setUserToken(token: string | null): void;
  lastReport(): { id: string; statusToken: string } | undefined;
  checkStatus(): Promise<unknown>;
  /** The reporter's reports on this browser, with their status fetched now. */
  reports(): Promise<Array<{ id: string; summary: string; sentAt: number; phase: Phase | 'unknown' }>>;
  /** Reports waiting to be sent again. */
  pending(): number;
}

interface Win {
  __userzScreenshot?: ScreenshotLib;
}

const safeStorage = (get: () => Storage): Storage | null => {
  try {
    return get();
  } catch {
    return null;
  }
};

/** 24 random base64url characters (crypto.getRandomValues), the report's idempotency key. */
function newKey(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(18));
  return btoa(String.fromCharCode(...bytes))
    .replace(/\+/g, '-')
    .replace(/\//g, '_');
}

export function createUserz(options: UserzOptions, win: Window & typeof globalThis = window): UserzApi {
  const base = (options.endpoint ?? win.location.origin).replace(/\/+$/, '');
  const strings: Strings = { ...DEFAULT_STRINGS, ...(options.buttonLabel ? { button: options.buttonLabel } : {}), ...options.strings };
  let userToken = options.userToken ?? null;
  let user: UserzUser | null = null;
  let release = options.release;
  let custom = mergeContext({}, options.context ?? {});
  let last: { id: string; statusToken: string } | undefined;
  let shot: Promise<HTMLCanvasElement | null> | null = null;

  const session = safeStorage(() => win.sessionStorage);
  const local = safeStorage(() => win.localStorage);
  const isOwn = (n: Node) => (n instanceof Element ? n : n.parentElement)?.closest('[data-userz-widget]') != null;
  const consoleBuffer = new ConsoleBuffer();
  consoleBuffer.install(win);
  const deny = new Set([...DEFAULT_DENYLIST, ...(options.network?.denylist ?? [])].map((s) => s.toLowerCase()));
  const network = new NetworkRecorder(
    {
      captureHeaders: options.network?.captureHeaders,
      captureBodies: options.network?.captureBodies,
      denylist: deny,
      ignore: [`${base}/api/v1/reports`, `${base}/widget`],
    },
    session,
  );
  network.install(win);
  const trail = new BreadcrumbTrail(session);
  trail.install(win, (el) => isOwn(el));
  const history = new ReportHistory(local, `userz:reports:${options.key}`);

  const loadScreenshotLib = (): Promise<ScreenshotLib> =>
    new Promise((resolve, reject) => {
      const w = win as unknown as Win;
      if (w.__userzScreenshot) return resolve(w.__userzScreenshot);
      const s = win.document.createElement('script');
      s.src = `${base}/widget/screenshot.js`;
      s.onload = () => (w.__userzScreenshot ? resolve(w.__userzScreenshot) : reject(new Error('screenshot library missing')));
      s.onerror = () => reject(new Error('screenshot library failed to load'));
      win.document.head.appendChild(s);
    });

  let panel: Panel | undefined;
  const takeShot = () => {
    if (!panel) return;
    const p = panel;
    p.showShot(true);
    p.say(strings.capturing);
    shot = loadScreenshotLib()
      .then((lib) => captureMasked(lib, win.document, { maskSelector: options.maskSelector, maskAllText: options.maskAllText, isOwn }))
      .then((canvas) => {
        p.editor.setImage(canvas);
        p.say('');
        return canvas;
      })
      .catch(() => {
        p.showShot(false);
        p.warn(strings.noScreenshot);
        return null;
      });
  };

  const send = async (p: PendingReport): Promise<SendResult> => {
    // One key per report, the same on every retry: the server stores it once.
    const headers: Record<string, string> = { 'content-type': 'application/json', 'x-userz-key': options.key, 'idempotency-key': p.key };
    if (userToken) headers['x-userz-user-token'] = userToken;
    let res: Response;
    try {
      res = await fetch(`${base}/api/v1/reports`, { method: 'POST', headers, body: JSON.stringify(p.body) });
    } catch (e) {
      return { ok: false, retry: true, message: String(e) };
    }
    const body = (await res.json().catch(() => ({}))) as { id?: string; statusToken?: string; duplicate?: boolean; error?: { message?: string } };
    // A duplicate: an earlier attempt was stored but its answer (and status token) was lost.
    if (res.ok && body.id && (body.statusToken || body.duplicate)) return { ok: true, value: body };
    return { ok: false, retry: res.status >= 500 || res.status === 429 || res.status === 409, message: body.error?.message ?? `HTTP ${res.status}` };
  };

  const remember = (p: PendingReport, value: unknown) => {
    const v = value as { id: string; statusToken?: string };
    if (!v.statusToken) return; // a duplicate's status token went with the lost answer
    last = { id: v.id, statusToken: v.statusToken };
    const text = String(p.body.text ?? '');
    history.add({ id: v.id, statusToken: v.statusToken, sentAt: Date.now(), summary: text.length > 60 ? `${text.slice(0, 60)}…` : text, phase: 'received' });
  };

  const outbox = new Outbox(
    session,
    `userz:outbox:${options.key}`,
    send,
    (p, value) => {
      remember(p, value);
      panel?.say(strings.retried);
    },
    (_p, message) => panel?.warn(`${strings.refused} ${message}`),
  );
  win.addEventListener('online', () => void outbox.flush());
  outbox.schedule();

  const buildBody = async (text: string): Promise<Record<string, unknown>> => {
    const attachments: Array<{ name: string; contentType: string; data: string }> = [];
    if (panel?.screenshot.checked && shot) {
      await shot;
      const edited = panel.editor.result();
      const encoded = edited ? encodeCanvas(edited) : null;
      if (encoded) attachments.push({ name: encoded.contentType === 'image/png' ? 'screenshot.png' : 'screenshot.jpg', ...encoded });
    }
    const net = network.ring.items.slice();
    const crumbs = trail.ring.items.slice();
    // Console lines, failed requests and breadcrumbs share the server's 500-line limit.
    const consoleLines = consoleBuffer
      .snapshot()
      .slice(-(500 - net.length - crumbs.length))
      .map((l) => ({ ...l, message: scrubText(l.message) }));
    const reporter: Record<string, string> = { reportedAt: new Date().toISOString() };
    const name = panel?.name.value.trim() || user?.name;
    const email = panel?.email.value.trim() || user?.email;
    if (user?.id) reporter.id = user.id;
    if (name) reporter.name = name;
    if (email) reporter.email = email;
    return {
      text,
      console: consoleLines,
      network: net,
      breadcrumbs: crumbs,
      environment: readEnvironment(win, { release, custom }),
      page: { url: win.location.href, userAgent: win.navigator.userAgent, viewport: { width: win.innerWidth, height: win.innerHeight } },
      reporter,
      attachments,
    };
  };

  const submit = async (): Promise<void> => {
    if (!panel) return;
    const p = panel;
    const text = p.text.value.trim();
    if (!text) {
      p.warn(strings.empty);
      p.text.focus();
      return;
    }
    // aria-disabled, not disabled: a disabled button would drop the keyboard user's focus.
    if (p.submit.getAttribute('aria-disabled') === 'true') return;
    p.submit.setAttribute('aria-disabled', 'true');
    p.say(strings.sending);
    try {
      const pending: PendingReport = { key: newKey(), body: await buildBody(text), attempts: 0 };
      const r = await send(pending);
      if (r.ok) {
        remember(pending, r.value);
        p.text.value = '';
        p.say(strings.thanks);
      } else if (r.retry) {
        outbox.add(pending);
        p.text.value = '';
        p.warn(strings.queued);
      } else {
        p.warn(`${strings.refused} ${r.message}`);
      }
    } finally {
      p.submit.removeAttribute('aria-disabled');
    }
  };

  const fetchPhase = async (r: { id: string; statusToken: string }): Promise<Phase | 'unknown'> => {
    try {
      const res = await fetch(`${base}/api/v1/reports/${encodeURIComponent(r.id)}/status`, { headers: { 'x-userz-status-token': r.statusToken } });
      const body = (await res.json()) as { phase?: Phase };
      if (!res.ok || !body.phase) return 'unknown';
      history.setPhase(r.id, body.phase);
      return body.phase;
    } catch {
      return 'unknown';
    }
  };

  const reports: UserzApi['reports'] = async () => {
    const list = history.list();
    const phases = await Promise.all(list.map(fetchPhase));
    return list.map((r, i) => ({ id: r.id, summary: r.summary, sentAt: r.sentAt, phase: phases[i]! }));
  };

  const showReports = async () => {
    if (!panel) return;
    const list = await reports();
    panel.renderReports(history.list(), Object.fromEntries(list.map((r) => [r.id, r.phase])));
  };

  const theme: Theme = {
    accent: options.accent ?? '#2456c5',
    mode: options.theme ?? 'auto',
    position: options.position ?? 'bottom-right',
    button: options.button !== false,
  };
  const start = () => {
    panel = new Panel(win.document, strings, theme, {
      onOpen: () => {
        if (panel?.screenshot.checked) takeShot();
      },
      onSubmit: () => void submit(),
      onScreenshotToggle: (on) => {
        if (on) takeShot();
        else {
          shot = null;
          panel?.editor.setImage(null);
          panel?.showShot(false);
        }
      },
      onShowReports: () => void showReports(),
    });
    panel.setIdentity(user);
  };
  if (win.document.body) start();
  else win.document.addEventListener('DOMContentLoaded', start);

  return {
    open: () => panel?.open(),
    close: () => panel?.close(),
    identify: (u) => {
      user = u ? { id: u.id, email: u.email, name: u.name } : null;
      panel?.setIdentity(user);
    },
    setContext: (values) => {
      if (typeof values.release === 'string') release = values.release.slice(0, 200);
      custom = mergeContext(custom, values);
    },
    setUserToken: (t) => {
      userToken = t;
    },
    lastReport: () => last,
    checkStatus: async () => {
      if (!last) return null;
      const res = await fetch(`${base}/api/v1/reports/${encodeURIComponent(last.id)}/status`, { headers: { 'x-userz-status-token': last.statusToken } });
      return res.json();
    },
    reports,
    pending: () => outbox.size,
  };
}
