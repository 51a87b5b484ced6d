// The screenshot preview: the reporter blacks out regions with the mouse (drag) or the
// keyboard (a box moved with the arrow keys, resized with Shift, applied with Enter).
import type { Rect } from './capture.js';

export class RedactionEditor {
  private base: HTMLCanvasElement | null = null;
  readonly rects: Rect[] = [];
  private box: Rect = { x: 0, y: 0, w: 0, h: 0 };
  private drag: { x: number; y: number } | null = null;
  private focused = false;

  constructor(private readonly canvas: HTMLCanvasElement) {
    canvas.addEventListener('pointerdown', (e) => {
      if (!this.base) return;
      canvas.setPointerCapture?.(e.pointerId);
      this.drag = this.point(e);
      this.box = { ...this.drag, w: 0, h: 0 };
    });
    canvas.addEventListener('pointermove', (e) => {
      if (!this.drag) return;
      const p = this.point(e);
      this.box = { x: Math.min(p.x, this.drag.x), y: Math.min(p.y, this.drag.y), w: Math.abs(p.x - this.drag.x), h: Math.abs(p.y - this.drag.y) };
      this.draw();
    });
    canvas.addEventListener('pointerup', () => {
      if (this.drag && this.box.w > 3 && this.box.h > 3) this.rects.push({ ...this.box });
      this.drag = null;
      this.draw();
    });
    canvas.addEventListener('focus', () => {
      this.focused = true;
      this.draw();
    });
    canvas.addEventListener('blur', () => {
      this.focused = false;
      this.draw();
    });
    canvas.addEventListener('keydown', (e) => this.onKey(e));
  }

  get hasImage(): boolean {
    return this.base !== null;
  }

  setImage(base: HTMLCanvasElement | null): void {
    this.base = base;
    this.rects.length = 0;
    if (!base) return;
    this.box = { x: Math.round(base.width / 4), y: Math.round(base.height / 4), w: Math.round(base.width / 4), h: Math.round(base.height / 8) };
    this.draw();
  }

  undo(): void {
    this.rects.pop();
    this.draw();
  }

  /** The screenshot with the black-outs, without the editing box. */
  result(): HTMLCanvasElement | null {
    if (!this.base) return null;
    const out = document.createElement('canvas');
    this.paint(out, false);
    return out;
  }

  private point(e: PointerEvent): { x: number; y: number } {
    const r = this.canvas.getBoundingClientRect();
    const scale = this.canvas.width / Math.max(1, r.width);
    return { x: Math.round((e.clientX - r.left) * scale), y: Math.round((e.clientY - r.top) * scale) };
  }

  private onKey(e: KeyboardEvent): void {
    if (!this.base) return;
    const step = Math.max(8, Math.round(this.base.width / 50));
    const b = this.box;
    const dx = e.key === 'ArrowLeft' ? -step : e.key === 'ArrowRight' ? step : 0;
    const dy = e.key === 'ArrowUp' ? -step : e.key === 'ArrowDown' ? step : 0;
    if (dx || dy) {
      if (e.shiftKey) {
        b.w = Math.max(step, b.w + dx);
        b.h = Math.max(step, b.h + dy);
      } else {
        b.x = Math.min(Math.max(0, b.x + dx), this.base.width - b.w);
        b.y = Math.min(Math.max(0, b.y + dy), this.base.height - b.h);
      }
    } else if (e.key === 'Enter' || e.key === ' ') {
      this.rects.push({ ...b });
    } else if (e.key === 'Backspace' || e.key === 'Delete') {
      this.rects.pop();
    } else return;
    e.preventDefault();
    e.stopPropagation();
    this.draw();
  }

  private draw(): void {
    this.paint(this.canvas, true);
  }

  private paint(target: HTMLCanvasElement, withBox: boolean): void {
    if (!this.base) return;
    target.width = this.base.width;
    target.height = this.base.height;
    const ctx = target.getContext('2d')!;
    ctx.drawImage(this.base, 0, 0);
    ctx.fillStyle = '#000';
    for (const r of this.rects) ctx.fillRect(r.x, r.y, r.w, r.h);
    const live = this.drag ? this.box : this.focused && withBox ? this.box : null;
    if (withBox && live) {
      ctx.lineWidth = Math.max(2, Math.round(this.base.width / 300));
      ctx.setLineDash([8, 6]);
      ctx.strokeStyle = '#ff00aa';
      ctx.strokeRect(live.x, live.y, live.w, live.h);
    }
  }
}
