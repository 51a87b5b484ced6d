// A ring buffer of the page's last console lines and uncaught errors, so a report carries
// what happened just before the reporter clicked.
export interface CapturedLine {
  level: 'log' | 'info' | 'warn' | 'error';
  message: string;
  ts: number;
}

const CAPACITY = 500;
const MAX_MESSAGE = 2000;

export class ConsoleBuffer {
  private readonly lines: CapturedLine[] = [];

  push(level: CapturedLine['level'], args: unknown[]): void {
    const message = args.map(stringify).join(' ').slice(0, MAX_MESSAGE);
    this.lines.push({ level, message, ts: Date.now() });
    if (this.lines.length > CAPACITY) this.lines.splice(0, this.lines.length - CAPACITY);
  }

  snapshot(): CapturedLine[] {
    return this.lines.slice();
  }

  /** Wraps console.* and listens for uncaught errors and rejections; the page's own output is unchanged. */
  install(win: Window & typeof globalThis): void {
    const c = win.console as unknown as Record<string, (...a: unknown[]) => void>;
    for (const level of ['log', 'info', 'warn', 'error'] as const) {
      const original = c[level];
      if (typeof original !== 'function') continue;
      c[level] = (...args: unknown[]) => {
        this.push(level, args);
        original.apply(win.console, args);
      };
    }
    win.addEventListener('error', (e: ErrorEvent) => {
      this.push('error', [
        `Uncaught ${e.error instanceof Error ? `${e.error.name}: ${e.error.message}` : e.message}`,
        e.filename ? `(${e.filename}:${e.lineno}:${e.colno})` : '',
      ]);
    });
    win.addEventListener('unhandledrejection', (e: PromiseRejectionEvent) => {
      this.push('error', ['Unhandled rejection:', e.reason]);
    });
  }
}

function stringify(v: unknown): string {
  if (typeof v === 'string') return v;
  if (v instanceof Error) return `${v.name}: ${v.message}`;
  try {
    return JSON.stringify(v) ?? String(v);
  } catch {
    return String(v);
  }
}
