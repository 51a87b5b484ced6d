// Screenshots with privacy by default: password fields, `data-userz-mask` elements, the
// App's own selector and (optionally) all text are painted black in the pixels, and masked
// inputs are also emptied in the clone the library renders, so their values never exist
// in the image at all.
export interface ScreenshotLib {
  domToCanvas(node: Node, opts?: Record<string, unknown>): Promise<HTMLCanvasElement>;
}

export interface Rect {
  x: number;
  y: number;
  w: number;
  h: number;
}

export interface CaptureOptions {
  maskSelector?: string;
  maskAllText?: boolean;
  isOwn(node: Node): boolean;
}

export const ALWAYS_MASKED = 'input[type=password],[data-userz-mask]';

function maskSelectorOf(opts: CaptureOptions): string {
  return opts.maskSelector ? `${ALWAYS_MASKED},${opts.maskSelector}` : ALWAYS_MASKED;
}

/** Rectangles to black out, in document CSS pixels (the capture's coordinates at scale 1). */
export function maskedRects(doc: Document, opts: CaptureOptions): Rect[] {
  const origin = doc.documentElement.getBoundingClientRect();
  const rects: Rect[] = [];
  const add = (r: DOMRect) => {
    if (r.width > 0 && r.height > 0) rects.push({ x: r.left - origin.left, y: r.top - origin.top, w: r.width, h: r.height });
  };
  let elements: Element[] = [];
  try {
    elements = [...doc.querySelectorAll(maskSelectorOf(opts))];
  } catch {
    elements = [...doc.querySelectorAll(ALWAYS_MASKED)]; // the App's selector does not parse
  }
  for (const el of elements) if (!opts.isOwn(el)) add(el.getBoundingClientRect());
  if (opts.maskAllText) {
    const walker = doc.createTreeWalker(doc.body, NodeFilter.SHOW_TEXT);
    const range = doc.createRange();
    for (let n = walker.nextNode(); n; n = walker.nextNode()) {
      if (!n.textContent?.trim() || opts.isOwn(n)) continue;
      range.selectNodeContents(n);
      for (const r of range.getClientRects()) add(r);
    }
    for (const el of doc.querySelectorAll('input,textarea,select')) if (!opts.isOwn(el)) add(el.getBoundingClientRect());
  }
  return rects;
}

export function paintRects(canvas: HTMLCanvasElement, rects: Rect[], scale: number): void {
  const ctx = canvas.getContext('2d')!;
  ctx.fillStyle = '#000';
  for (const r of rects) ctx.fillRect(Math.floor(r.x * scale) - 1, Math.floor(r.y * scale) - 1, Math.ceil(r.w * scale) + 2, Math.ceil(r.h * scale) + 2);
}

export async function captureMasked(lib: ScreenshotLib, doc: Document, opts: CaptureOptions): Promise<HTMLCanvasElement> {
  const selector = maskSelectorOf(opts);
  const rects = maskedRects(doc, opts);
  const canvas = await lib.domToCanvas(doc.documentElement, {
    scale: 1,
    filter: (node: Node) => !opts.isOwn(node),
    onCloneNode: (cloned: Node) => {
      if (!(cloned instanceof Element)) return;
      let masked = false;
      try {
        masked = cloned.matches(selector);
      } catch {
        masked = cloned.matches(ALWAYS_MASKED);
      }
      if (masked && (cloned instanceof HTMLInputElement || cloned instanceof HTMLTextAreaElement)) {
        cloned.value = '';
        cloned.setAttribute('value', '');
      }
    },
  });
  paintRects(canvas, rects, canvas.width / Math.max(1, doc.documentElement.scrollWidth));
  return canvas;
}

const MAX_BASE64 = 6 * 1024 * 1024;

/** PNG, or a half-size JPEG when the PNG would be over 6 MB; null when even that is too big. */
export function encodeCanvas(canvas: HTMLCanvasElement): { data: string; contentType: string } | null {
  let url = canvas.toDataURL('image/png');
  let contentType = 'image/png';
  if (url.length > MAX_BASE64) {
    const half = document.createElement('canvas');
    half.width = Math.ceil(canvas.width / 2);
    half.height = Math.ceil(canvas.height / 2);
    half.getContext('2d')!.drawImage(canvas, 0, 0, half.width, half.height);
    url = half.toDataURL('image/jpeg', 0.7);
    contentType = 'image/jpeg';
  }
  const data = url.slice(url.indexOf(',') + 1);
  return data.length > MAX_BASE64 ? null : { data, contentType };
}
