// What the reporter did before reporting: page loads, history changes and clicks (the
// element's role and a cut, scrubbed text; never an input's value). Kept in sessionStorage
// so a report made after a navigation still shows the page before it.
import { Ring } from './ring.js';
import { scrubText, stripQueryValues } from './scrub.js';

export interface Breadcrumb {
  kind: 'navigation' | 'click' | 'history';
  ts: number;
  url?: string;
  role?: string;
  text?: string;
}

const KEY = 'userz:breadcrumbs';
const TEXT_CAP = 80;
const ROLES: Record<string, string> = { a: 'link', button: 'button', select: 'combobox', textarea: 'textbox', summary: 'button', img: 'img', label: 'label' };
const INPUT_ROLES: Record<string, string> = { checkbox: 'checkbox', radio: 'radio', button: 'button', submit: 'button', reset: 'button', range: 'slider' };

function roleOf(el: Element): string {
  const explicit = el.getAttribute('role')?.split(' ')[0]?.toLowerCase();
  if (explicit && /^[a-z]{1,32}$/.test(explicit)) return explicit;
  const tag = el.tagName.toLowerCase();
  if (tag === 'input') return INPUT_ROLES[(el as HTMLInputElement).type] ?? 'textbox';
  return ROLES[tag] ?? (/^[a-z]{1,32}$/.test(tag) ? tag : 'generic');
}

function textOf(el: Element): string {
  const tag = el.tagName.toLowerCase();
  const own = el.getAttribute('aria-label') ?? el.getAttribute('title') ?? '';
  // Never a field's value: for inputs only their label-ish attributes.
  const text =
    own ||
    (tag === 'input' || tag === 'textarea' || tag === 'select' ? (el.getAttribute('name') ?? '') : ((el as HTMLElement).innerText ?? el.textContent ?? ''));
  const flat = text.replace(/\s+/g, ' ').trim();
  return scrubText(flat.length > TEXT_CAP ? `${flat.slice(0, TEXT_CAP)}…` : flat);
}

export class BreadcrumbTrail {
  readonly ring: Ring<Breadcrumb>;

  constructor(storage: Storage | null) {
    this.ring = new Ring<Breadcrumb>(50, storage, KEY);
  }

  push(c: Breadcrumb): void {
    this.ring.push(c);
  }

  install(win: Window & typeof globalThis, isOwn: (el: Element) => boolean): void {
    const here = () => stripQueryValues(win.location.href, win.location.href);
    this.push({ kind: 'navigation', ts: Date.now(), url: here() });
    const push = (c: Breadcrumb) => this.push(c);
    const h = win.history;
    for (const name of ['pushState', 'replaceState'] as const) {
      const orig = h[name];
      h[name] = function (this: History, ...args: Parameters<History['pushState']>) {
        const r = orig.apply(this, args);
        push({ kind: 'history', ts: Date.now(), url: here() });
        return r;
      };
    }
    win.addEventListener('popstate', () => this.push({ kind: 'history', ts: Date.now(), url: here() }));
    win.addEventListener('hashchange', () => this.push({ kind: 'history', ts: Date.now(), url: here() }));
    win.document.addEventListener(
      'click',
      (e) => {
        const path = e.composedPath();
        if (path.some((n) => n instanceof Element && isOwn(n))) return;
        const target =
          path.find((n): n is Element => n instanceof Element && n.matches('a,button,input,select,textarea,summary,label,[role],[onclick]')) ??
          (e.target as Element | null);
        if (!(target instanceof Element)) return;
        this.push({ kind: 'click', ts: Date.now(), role: roleOf(target), text: textOf(target) });
      },
      true,
    );
  }
}
