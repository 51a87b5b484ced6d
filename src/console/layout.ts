import type { ServerResponse } from 'node:http';
import type { ConsoleSession } from './context.js';
import { html, type Html } from './html.js';

/**
 * Every console page goes out through sendPage: the shared shell (nav, org switcher,
 * sign-out form) and the headers that keep hostile report text inert even if an escape
 * were missed somewhere: a Content-Security-Policy with no inline script, no framing,
 * forms posting only to us, and no referrer leaving the console.
 */
export const CONSOLE_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
].join('; ');

export const CONSOLE_HEADERS: Readonly<Record<string, string>> = {
  'content-security-policy': CONSOLE_CSP,
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'same-origin',
  'cache-control': 'no-store',
};

/** The sections of the nav, in order: [path, label]. */
const NAV: readonly (readonly [string, string])[] = [
  ['/', 'Inbox'],
  ['/review', 'Review queue'],
  ['/runs', 'Runs'],
  ['/apps', 'Apps'],
  ['/repos', 'Repositories'],
  ['/api-keys', 'API keys'],
  ['/settings', 'Settings'],
  ['/members', 'Members'],
  ['/audit', 'Audit log'],
];

export interface PageOptions {
  title: string;
  /** Absent on the signed-out pages (sign-in, sign-up, reset). */
  session?: ConsoleSession | null;
  /** The nav entry to mark current (its path). */
  active?: string;
  body: Html;
}

export function layout(opts: PageOptions): Html {
  const s = opts.session ?? null;
  const org = s?.principal ? s.memberships.find((m) => m.orgId === s.principal!.orgId) : undefined;
  return html`<!doctype html>
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>${opts.title} · Userz</title>
        <link rel="stylesheet" href="/console/assets/console.css" />
        <script src="/console/assets/console.js" defer></script>
      </head>
      <body>
        <a class="skip" href="#main">Skip to content</a>
        <header class="top">
          <a class="brand" href="/">Userz</a>
          ${
            s
              ? html`<nav aria-label="Sections">
                    <ul>
                      ${NAV.map(([path, label]) => html`<li><a href="${path}" ${opts.active === path ? html`aria-current="page"` : ''}>${label}</a></li>`)}
                    </ul>
                  </nav>
                  <div class="who">
                    ${org ? html`<span class="org">${org.orgName}</span> <span class="role">${org.role}</span>` : ''}
                    <a href="/account">${s.user.email}</a>
                    <form method="post" action="/sign-out" class="inline">
                      <input type="hidden" name="_csrf" value="${s.csrfToken}" />
                      <button type="submit" class="link">Sign out</button>
                    </form>
                  </div>`
              : ''
          }
        </header>
        <main id="main" tabindex="-1">
          <h1>${opts.title}</h1>
          ${opts.body}
        </main>
      </body>
    </html>`;
}

export function sendPage(res: ServerResponse, status: number, page: Html, headers: Record<string, string> = {}): void {
  const body = page.value;
  res.writeHead(status, { 'content-type': 'text/html; charset=utf-8', 'content-length': Buffer.byteLength(body), ...CONSOLE_HEADERS, ...headers });
  res.end(body);
}

/** 303 See Other: where a form post goes after it changed something (post/redirect/get). */
export function redirect(res: ServerResponse, location: string, headers: Record<string, string | string[]> = {}): void {
  res.writeHead(303, { location, 'cache-control': 'no-store', ...headers }).end();
}
