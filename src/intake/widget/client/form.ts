// The button and form, inside a shadow root so the host page's CSS cannot reach them.
const STYLE = `
:host { all: initial; }
.uz { font: 14px/1.4 system-ui, sans-serif; color: #111; }
.uz-button { position: fixed; right: 16px; bottom: 16px; z-index: 2147483646; padding: 8px 14px; border: 0; border-radius: 18px; background: #2b59c3; color: #fff; cursor: pointer; box-shadow: 0 2px 6px rgba(0,0,0,.25); }
.uz-panel { position: fixed; right: 16px; bottom: 64px; z-index: 2147483647; width: 320px; padding: 14px; border-radius: 8px; background: #fff; box-shadow: 0 4px 18px rgba(0,0,0,.3); display: none; }
.uz-panel.open { display: block; }
.uz-panel textarea { box-sizing: border-box; width: 100%; height: 110px; margin: 6px 0; font: inherit; }
.uz-row { display: flex; gap: 8px; align-items: center; justify-content: space-between; margin-top: 6px; }
.uz-status { min-height: 1.4em; margin-top: 6px; font-size: 13px; }
`;

export interface FormElements {
  host: HTMLElement;
  open(): void;
  close(): void;
  text: HTMLTextAreaElement;
  screenshot: HTMLInputElement;
  submit: HTMLButtonElement;
  setStatus(text: string): void;
}

export function mountForm(doc: Document, onSubmit: () => void): FormElements {
  const host = doc.createElement('div');
  host.setAttribute('data-userz-widget', '');
  const root = host.attachShadow({ mode: 'open' });
  root.innerHTML = `<style>${STYLE}</style>
<div class="uz">
  <button class="uz-button" type="button" part="button">Report a problem</button>
  <form class="uz-panel" role="dialog" aria-label="Report a problem">
    <label>What went wrong?<textarea name="text" maxlength="8000" required></textarea></label>
    <label><input type="checkbox" name="screenshot" checked> Include a screenshot of this page</label>
    <div class="uz-row"><button type="button" class="uz-cancel">Cancel</button><button type="submit" class="uz-send">Send report</button></div>
    <div class="uz-status" role="status"></div>
  </form>
</div>`;
  const q = <T extends Element>(sel: string) => root.querySelector(sel) as T;
  const panel = q<HTMLFormElement>('.uz-panel');
  const status = q<HTMLDivElement>('.uz-status');
  const els: FormElements = {
    host,
    open: () => panel.classList.add('open'),
    close: () => panel.classList.remove('open'),
    text: q<HTMLTextAreaElement>('textarea'),
    screenshot: q<HTMLInputElement>('input[name=screenshot]'),
    submit: q<HTMLButtonElement>('.uz-send'),
    setStatus: (t) => {
      status.textContent = t;
    },
  };
  q<HTMLButtonElement>('.uz-button').addEventListener('click', () => (panel.classList.contains('open') ? els.close() : els.open()));
  q<HTMLButtonElement>('.uz-cancel').addEventListener('click', () => els.close());
  panel.addEventListener('submit', (e) => {
    e.preventDefault();
    onSubmit();
  });
  (doc.body ?? doc.documentElement).appendChild(host);
  return els;
}
