// Failed requests: fetch or XHR that threw, or answered 400 or more. Method, URL without
// query values, status, duration; headers and bodies only when the App opts in, with
// denylisted names scrubbed here, on the device.
import { Ring } from './ring.js';
import { scrubBody, scrubHeaders, scrubText, stripQueryValues } from './scrub.js';

export interface NetworkEntry {
  method: string;
  url: string;
  status: number;
  durationMs: number;
  ts: number;
  error?: string;
  requestHeaders?: Record<string, string>;
  responseHeaders?: Record<string, string>;
  requestBody?: string;
  responseBody?: string;
}

export interface NetworkOptions {
  captureHeaders?: boolean;
  captureBodies?: boolean;
  /** Extra header and JSON-key names to scrub (case-insensitive), added to the defaults. */
  denylist: Set<string>;
  /** Requests to these URL prefixes are not recorded (the widget's own endpoint). */
  ignore: string[];
}

const BODY_CAP = 2000;
const cut = (s: string) => (s.length > BODY_CAP ? `${s.slice(0, BODY_CAP)}…` : s);
const method = (m: string | undefined) => (/^[A-Za-z]{1,16}$/.test(m ?? '') ? m!.toUpperCase() : 'GET');

export class NetworkRecorder {
  readonly ring: Ring<NetworkEntry>;
  /** With a storage, failed requests of earlier pages in this tab are kept too (like breadcrumbs). */
  constructor(
    private readonly opts: NetworkOptions,
    storage: Storage | null,
  ) {
    this.ring = new Ring<NetworkEntry>(50, storage, 'userz:network');
  }

  private ignored(url: string): boolean {
    return this.opts.ignore.some((p) => url.startsWith(p));
  }

  private record(e: Omit<NetworkEntry, 'url'> & { url: string }, extra: Partial<NetworkEntry>): void {
    this.ring.push({ ...e, url: stripQueryValues(e.url, location.href), ...extra });
  }

  install(win: Window & typeof globalThis): void {
    const ignored = (url: string) => this.ignored(url);
    const record: NetworkRecorder['record'] = (e, extra) => this.record(e, extra);
    const { opts } = this;
    const origFetch = win.fetch;
    if (typeof origFetch === 'function') {
      win.fetch = async function (input: RequestInfo | URL, init?: RequestInit): Promise<Response> {
        const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
        const m = method(init?.method ?? (input instanceof Request ? input.method : undefined));
        const start = performance.now();
        const ts = Date.now();
        const request = () => {
          const out: Partial<NetworkEntry> = {};
          if (opts.captureHeaders && init?.headers) out.requestHeaders = scrubHeaders(new Headers(init.headers).entries(), opts.denylist);
          if (opts.captureBodies && typeof init?.body === 'string') out.requestBody = cut(scrubBody(init.body, opts.denylist));
          return out;
        };
        let res: Response;
        try {
          res = await origFetch.call(win, input, init);
        } catch (err) {
          if (!ignored(new URL(url, location.href).href)) {
            record({ method: m, url, status: 0, durationMs: Math.round(performance.now() - start), ts, error: scrubText(String(err)) }, request());
          }
          throw err;
        }
        if (res.status >= 400 && !ignored(new URL(url, location.href).href)) {
          const extra = request();
          if (opts.captureHeaders) extra.responseHeaders = scrubHeaders(res.headers.entries(), opts.denylist);
          if (opts.captureBodies)
            extra.responseBody = cut(
              scrubBody(
                await res
                  .clone()
                  .text()
                  .catch(() => ''),
                opts.denylist,
              ),
            );
          record({ method: m, url, status: res.status, durationMs: Math.round(performance.now() - start), ts }, extra);
        }
        return res;
      };
    }
    const XHR = win.XMLHttpRequest;
    if (!XHR) return;
    const open = XHR.prototype.open;
    const send = XHR.prototype.send;
    const meta = new WeakMap<XMLHttpRequest, { method: string; url: string; body?: string }>();
    XHR.prototype.open = function (this: XMLHttpRequest, m: string, url: string | URL, ...rest: unknown[]) {
      meta.set(this, { method: method(m), url: String(url) });
      return (open as (...a: unknown[]) => void).call(this, m, url, ...rest);
    } as typeof XHR.prototype.open;
    XHR.prototype.send = function (this: XMLHttpRequest, body?: Document | XMLHttpRequestBodyInit | null) {
      const m = meta.get(this);
      if (m) {
        const start = performance.now();
        const ts = Date.now();
        this.addEventListener('loadend', () => {
          const href = new URL(m.url, location.href).href;
          if ((this.status !== 0 && this.status < 400) || ignored(href)) return;
          const extra: Partial<NetworkEntry> = {};
          if (this.status === 0) extra.error = 'Network error';
          if (opts.captureBodies && typeof body === 'string') extra.requestBody = cut(scrubBody(body, opts.denylist));
          if (opts.captureBodies && (this.responseType === '' || this.responseType === 'text'))
            extra.responseBody = cut(scrubBody(this.responseText, opts.denylist));
          if (opts.captureHeaders) {
            const pairs = this.getAllResponseHeaders()
              .trim()
              .split(/\r?\n/)
              .filter(Boolean)
              .map((l) => [l.slice(0, l.indexOf(':')), l.slice(l.indexOf(':') + 1).trim()] as [string, string]);
            extra.responseHeaders = scrubHeaders(pairs, opts.denylist);
          }
          record({ method: m.method, url: m.url, status: this.status, durationMs: Math.round(performance.now() - start), ts }, extra);
        });
      }
      return send.call(this, body);
    };
  }
}
