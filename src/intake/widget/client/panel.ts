// The button and panel, inside a shadow root so the host page's CSS cannot reach them.
// A modal dialog: focus moves in and is trapped, Esc closes and focus returns to the opener;
// every control has a label; sent and failed are announced in live regions.
import type { Phase, RememberedReport } from './history.js';
import { RedactionEditor } from './redact.js';
import type { Strings } from './strings.js';

export interface Theme {
  accent: string;
  mode: 'light' | 'dark' | 'auto';
  position: 'bottom-right' | 'bottom-left' | 'top-right' | 'top-left';
  /** false: no floating button; the host opens the panel with Userz.open() from its own button. */
  button: boolean;
}

const STYLE = `
:host { all: initial; }
.uz { --bg: #fff; --fg: #1a1a1a; --muted: #4a4a4a; --line: #8a8a8a; font: 14px/1.4 system-ui, sans-serif; color: var(--fg); }
.uz.dark { --bg: #1f1f1f; --fg: #f2f2f2; --muted: #cfcfcf; --line: #9a9a9a; }
@media (prefers-color-scheme: dark) { .uz.auto { --bg: #1f1f1f; --fg: #f2f2f2; --muted: #cfcfcf; --line: #9a9a9a; } }
.uz-button, .uz-primary { border: 0; border-radius: 18px; background: var(--accent); color: #fff; cursor: pointer; font: inherit; padding: 8px 14px; }
.uz-button { position: fixed; z-index: 2147483646; box-shadow: 0 2px 6px rgba(0,0,0,.25); }
.uz-panel { position: fixed; z-index: 2147483647; width: 360px; max-width: calc(100vw - 32px); max-height: calc(100vh - 96px); overflow: auto; box-sizing: border-box; padding: 14px; border-radius: 8px; background: var(--bg); color: var(--fg); box-shadow: 0 4px 18px rgba(0,0,0,.3); }
.uz-panel[hidden], .uz-view[hidden], .uz-field[hidden] { display: none; }
.br { right: 16px; } .bl { left: 16px; } .b.uz-button { bottom: 16px; } .b.uz-panel { bottom: 64px; } .t.uz-button { top: 16px; } .t.uz-panel { top: 64px; }
h2 { font-size: 16px; margin: 0 0 8px; }
label { display: block; margin: 6px 0; }
textarea, input[type=text], input[type=email] { box-sizing: border-box; width: 100%; margin-top: 2px; font: inherit; color: var(--fg); background: var(--bg); border: 1px solid var(--line); border-radius: 4px; padding: 4px 6px; }
textarea { height: 100px; }
button { font: inherit; }
.uz-secondary { background: transparent; color: var(--fg); border: 1px solid var(--line); border-radius: 18px; padding: 7px 13px; cursor: pointer; }
.uz-link { background: none; border: 0; padding: 0; color: var(--fg); text-decoration: underline; cursor: pointer; }
:focus-visible { outline: 3px solid var(--accent); outline-offset: 2px; }
.uz-row { display: flex; gap: 8px; align-items: center; justify-content: space-between; margin-top: 8px; flex-wrap: wrap; }
.uz-status { min-height: 1.4em; margin-top: 6px; font-size: 13px; }
.uz-help { font-size: 12px; color: var(--muted); margin: 4px 0; }
canvas { display: block; width: 100%; border: 1px solid var(--line); cursor: crosshair; touch-action: none; }
ul { list-style: none; padding: 0; margin: 0; }
li { padding: 6px 0; border-bottom: 1px solid var(--line); display: flex; justify-content: space-between; gap: 8px; }
.uz-phase { font-weight: 600; white-space: nowrap; }
`;

const esc = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

export interface PanelEvents {
  onOpen(): void;
  onSubmit(): void;
  onScreenshotToggle(on: boolean): void;
  onShowReports(): void;
}

export class Panel {
  readonly host: HTMLElement;
  private readonly root: ShadowRoot;
  private readonly panel: HTMLElement;
  private opener: Element | null = null;
  readonly text: HTMLTextAreaElement;
  readonly name: HTMLInputElement;
  readonly email: HTMLInputElement;
  readonly screenshot: HTMLInputElement;
  readonly submit: HTMLButtonElement;
  readonly editor: RedactionEditor;
  private readonly status: HTMLElement;
  private readonly alert: HTMLElement;

  constructor(
    doc: Document,
    private readonly s: Strings,
    theme: Theme,
    private readonly events: PanelEvents,
  ) {
    this.host = doc.createElement('div');
    this.host.setAttribute('data-userz-widget', '');
    this.root = this.host.attachShadow({ mode: 'open' });
    const [v, h] = theme.position.split('-') as [string, string];
    const place = `${v === 'top' ? 't' : 'b'} ${h === 'left' ? 'bl' : 'br'}`;
    this.root.innerHTML = `<style>${STYLE}</style>
<div class="uz ${theme.mode}" style="--accent:${esc(theme.accent)}">
  ${theme.button ? `<button class="uz-button ${place}" type="button" aria-haspopup="dialog">${esc(s.button)}</button>` : ''}
  <div class="uz-panel ${place}" role="dialog" aria-modal="true" aria-labelledby="uz-title" hidden>
    <h2 id="uz-title">${esc(s.title)}</h2>
    <form class="uz-view uz-form" novalidate>
      <label>${esc(s.describe)}<textarea name="text" maxlength="8000" required aria-required="true"></textarea></label>
      <label class="uz-field uz-name">${esc(s.name)}<input type="text" name="name" autocomplete="name" maxlength="200"></label>
      <label class="uz-field uz-email">${esc(s.email)}<input type="email" name="email" autocomplete="email" maxlength="200"></label>
      <label><input type="checkbox" name="screenshot" checked> ${esc(s.screenshot)}</label>
      <div class="uz-shot" hidden>
        <p class="uz-help" id="uz-shot-help">${esc(s.previewHelp)}</p>
        <canvas tabindex="0" role="img" aria-label="${esc(s.preview)}" aria-describedby="uz-shot-help"></canvas>
        <div class="uz-row"><button type="button" class="uz-secondary uz-undo">${esc(s.undo)}</button></div>
      </div>
      <div class="uz-row"><button type="button" class="uz-link uz-mine">${esc(s.yourReports)}</button><span><button type="button" class="uz-secondary uz-cancel">${esc(s.cancel)}</button> <button type="submit" class="uz-primary uz-send">${esc(s.send)}</button></span></div>
    </form>
    <div class="uz-view uz-reports" hidden>
      <h3 class="uz-help">${esc(s.yourReports)}</h3>
      <ul aria-label="${esc(s.yourReports)}"></ul>
      <div class="uz-row"><button type="button" class="uz-secondary uz-back">${esc(s.back)}</button><span><button type="button" class="uz-secondary uz-refresh">${esc(s.refresh)}</button> <button type="button" class="uz-secondary uz-close">${esc(s.close)}</button></span></div>
    </div>
    <div class="uz-status" role="status" aria-live="polite"></div>
    <div class="uz-status uz-alert" role="alert"></div>
  </div>
</div>`;
    const q = <T extends Element>(sel: string) => this.root.querySelector(sel) as T;
    this.panel = q('.uz-panel');
    this.text = q('textarea');
    this.name = q('input[name=name]');
    this.email = q('input[name=email]');
    this.screenshot = q('input[name=screenshot]');
    this.submit = q('.uz-send');
    this.status = q('[role=status]');
    this.alert = q('[role=alert]');
    this.editor = new RedactionEditor(q<HTMLCanvasElement>('canvas'));
    q<HTMLButtonElement>('.uz-undo').addEventListener('click', () => this.editor.undo());
    this.root.querySelector<HTMLButtonElement>('.uz-button')?.addEventListener('click', () => (this.isOpen ? this.close() : this.open()));
    q<HTMLButtonElement>('.uz-cancel').addEventListener('click', () => this.close());
    q<HTMLButtonElement>('.uz-close').addEventListener('click', () => this.close());
    q<HTMLButtonElement>('.uz-mine').addEventListener('click', () => events.onShowReports());
    q<HTMLButtonElement>('.uz-refresh').addEventListener('click', () => events.onShowReports());
    q<HTMLButtonElement>('.uz-back').addEventListener('click', () => this.showView('form'));
    this.screenshot.addEventListener('change', () => events.onScreenshotToggle(this.screenshot.checked));
    q<HTMLFormElement>('form').addEventListener('submit', (e) => {
      e.preventDefault();
      events.onSubmit();
    });
    this.panel.addEventListener('keydown', (e) => this.onKey(e));
    // Esc closes even when focus has left the panel (a click on the page behind it).
    doc.addEventListener('keydown', (e) => {
      if (e.key === 'Escape' && this.isOpen) this.close();
    });
    (doc.body ?? doc.documentElement).appendChild(this.host);
  }

  get isOpen(): boolean {
    return !this.panel.hidden;
  }

  open(): void {
    if (this.isOpen) return;
    const active = document.activeElement;
    this.opener = active === this.host ? (this.root.activeElement ?? active) : active;
    this.panel.hidden = false;
    this.showView('form');
    this.text.focus();
    this.events.onOpen();
  }

  close(): void {
    if (!this.isOpen) return;
    this.panel.hidden = true;
    const back = this.opener as HTMLElement | null;
    this.opener = null;
    if (back && typeof back.focus === 'function') back.focus();
  }

  showView(which: 'form' | 'reports'): void {
    this.root.querySelector<HTMLElement>('.uz-form')!.hidden = which !== 'form';
    this.root.querySelector<HTMLElement>('.uz-reports')!.hidden = which !== 'reports';
    (which === 'form' ? this.text : this.root.querySelector<HTMLButtonElement>('.uz-back')!).focus();
  }

  /** Pre-filled and hidden when the host page identified the user. */
  setIdentity(user: { name?: string; email?: string } | null): void {
    this.name.value = user?.name ?? '';
    this.email.value = user?.email ?? '';
    this.root.querySelector<HTMLElement>('.uz-name')!.hidden = Boolean(user?.name);
    this.root.querySelector<HTMLElement>('.uz-email')!.hidden = Boolean(user?.email);
  }

  showShot(visible: boolean): void {
    this.root.querySelector<HTMLElement>('.uz-shot')!.hidden = !visible;
  }

  say(text: string): void {
    this.alert.textContent = '';
    this.status.textContent = text;
  }

  warn(text: string): void {
    this.status.textContent = '';
    this.alert.textContent = text;
  }

  renderReports(list: RememberedReport[], phases: Partial<Record<string, Phase | 'unknown'>>): void {
    const ul = this.root.querySelector('ul')!;
    ul.textContent = '';
    if (list.length === 0) {
      const li = document.createElement('li');
      li.textContent = this.s.noReports;
      ul.appendChild(li);
    }
    for (const r of [...list].reverse()) {
      const li = document.createElement('li');
      const what = document.createElement('span');
      what.textContent = `${new Date(r.sentAt).toLocaleDateString()}: ${r.summary}`;
      const phase = document.createElement('span');
      phase.className = 'uz-phase';
      phase.textContent = this.s[phases[r.id] ?? r.phase];
      li.append(what, phase);
      ul.appendChild(li);
    }
    this.showView('reports');
  }

  private onKey(e: KeyboardEvent): void {
    if (e.key === 'Escape') {
      e.preventDefault();
      e.stopPropagation();
      this.close();
      return;
    }
    if (e.key !== 'Tab') return;
    const focusables = [...this.panel.querySelectorAll<HTMLElement>('button,textarea,input,canvas,[tabindex]')].filter(
      (el) => !el.closest('[hidden]') && !(el as HTMLButtonElement).disabled && el.tabIndex >= 0,
    );
    if (focusables.length === 0) return;
    const first = focusables[0]!;
    const last = focusables[focusables.length - 1]!;
    const active = this.root.activeElement;
    if (e.shiftKey && (active === first || !this.panel.contains(active))) {
      e.preventDefault();
      last.focus();
    } else if (!e.shiftKey && (active === last || !this.panel.contains(active))) {
      e.preventDefault();
      first.focus();
    }
  }
}
