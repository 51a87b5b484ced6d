// The embeddable widget: <script src="https://userz.example/widget.js" data-userz-key="pub_…">.
// Captures console lines, errors and page facts; on submit posts them (and, if asked, a
// screenshot) to the ingest endpoint of the server it was loaded from.
import { ConsoleBuffer } from './console-buffer.js';
import { mountForm, type FormElements } from './form.js';

interface ScreenshotLib {
  domToPng(node: Node, opts?: Record<string, unknown>): Promise<string>;
  domToJpeg(node: Node, opts?: Record<string, unknown>): Promise<string>;
}

const MAX_SCREENSHOT_BASE64 = 6 * 1024 * 1024;

(() => {
  const w = window as unknown as { Userz?: unknown; __userzScreenshot?: ScreenshotLib };
  if (w.Userz) return;
  const script = document.currentScript as HTMLScriptElement | null;
  const base = script ? new URL(script.src).origin : location.origin;
  const publicKey = script?.getAttribute('data-userz-key') ?? '';
  let userToken = script?.getAttribute('data-user-token') ?? null;
  const buffer = new ConsoleBuffer();
  buffer.install(window);
  let form: FormElements | undefined;
  let last: { id: string; statusToken: string } | undefined;

  const loadScreenshotLib = (): Promise<ScreenshotLib> =>
    new Promise((resolve, reject) => {
      if (w.__userzScreenshot) return resolve(w.__userzScreenshot);
      const s = document.createElement('script');
      s.src = `${base}/widget/screenshot.js`;
      s.onload = () => (w.__userzScreenshot ? resolve(w.__userzScreenshot) : reject(new Error('screenshot library missing')));
      s.onerror = () => reject(new Error('screenshot library failed to load'));
      document.head.appendChild(s);
    });

  const takeScreenshot = async (): Promise<string | null> => {
    const lib = await loadScreenshotLib();
    const skip = (node: Node) => !(node instanceof Element && node.hasAttribute('data-userz-widget'));
    let url = await lib.domToPng(document.documentElement, { filter: skip, scale: 1 });
    if (url.length > MAX_SCREENSHOT_BASE64) url = await lib.domToJpeg(document.documentElement, { filter: skip, scale: 0.5, quality: 0.7 });
    const data = url.slice(url.indexOf(',') + 1);
    return data.length > MAX_SCREENSHOT_BASE64 ? null : data;
  };

  const submit = async (): Promise<void> => {
    if (!form) return;
    const text = form.text.value.trim();
    if (!text) return form.setStatus('Please describe the problem.');
    form.submit.disabled = true;
    form.setStatus('Sending…');
    try {
      const attachments: Array<{ name: string; contentType: string; data: string }> = [];
      if (form.screenshot.checked) {
        const shot = await takeScreenshot().catch(() => null);
        if (shot) attachments.push({ name: 'screenshot.png', contentType: shot.startsWith('/9j/') ? 'image/jpeg' : 'image/png', data: shot });
      }
      const headers: Record<string, string> = { 'content-type': 'application/json', 'x-userz-key': publicKey };
      if (userToken) headers['x-userz-user-token'] = userToken;
      const res = await fetch(`${base}/api/v1/reports`, {
        method: 'POST',
        headers,
        body: JSON.stringify({
          text,
          console: buffer.snapshot(),
          page: { url: location.href, userAgent: navigator.userAgent, viewport: { width: window.innerWidth, height: window.innerHeight } },
          reporter: { reportedAt: new Date().toISOString() },
          attachments,
        }),
      });
      const body = (await res.json().catch(() => ({}))) as { id?: string; statusToken?: string; error?: { message?: string } };
      if (!res.ok || !body.id || !body.statusToken) throw new Error(body.error?.message ?? `HTTP ${res.status}`);
      last = { id: body.id, statusToken: body.statusToken };
      form.text.value = '';
      form.setStatus(`Thank you. Report ${body.id} received.`);
    } catch (e) {
      form.setStatus(`Could not send the report: ${(e as Error).message}`);
    } finally {
      form.submit.disabled = false;
    }
  };

  /** Polls our own report's status with its token (the widget shows PR links or refusals). */
  const checkStatus = async (): Promise<unknown> => {
    if (!last) return null;
    const res = await fetch(`${base}/api/v1/reports/${encodeURIComponent(last.id)}/status`, { headers: { 'x-userz-status-token': last.statusToken } });
    return res.json();
  };

  const start = () => {
    form = mountForm(document, () => void submit());
  };
  if (document.body) start();
  else document.addEventListener('DOMContentLoaded', start);

  w.Userz = {
    setUserToken: (t: string | null) => {
      userToken = t;
    },
    open: () => form?.open(),
    lastReport: () => last,
    checkStatus,
  };
})();
