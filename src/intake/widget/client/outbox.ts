// A report that could not be sent is kept in memory and in sessionStorage (it survives a
// reload of the tab) and retried when the browser is back online and with a backoff, one
// send at a time. A report whose answer was lost after the server stored it can arrive twice
// (no idempotency key on the server yet); one that never left the page arrives once.
export interface PendingReport {
  key: string;
  body: Record<string, unknown>;
  attempts: number;
}

const BACKOFF_MS = [2000, 5000, 15000, 30000, 60000];

export type SendResult = { ok: true; value: unknown } | { ok: false; retry: boolean; message: string };

export class Outbox {
  private pending: PendingReport[] = [];
  private timer: ReturnType<typeof setTimeout> | undefined;
  private flushing = false;

  constructor(
    private readonly storage: Storage | null,
    private readonly storageKey: string,
    private readonly send: (p: PendingReport) => Promise<SendResult>,
    private readonly onSent: (p: PendingReport, value: unknown) => void,
    private readonly onDropped: (p: PendingReport, message: string) => void,
  ) {
    try {
      const saved = JSON.parse(storage?.getItem(storageKey) ?? '[]') as PendingReport[];
      if (Array.isArray(saved)) this.pending = saved;
    } catch {
      this.pending = [];
    }
  }

  get size(): number {
    return this.pending.length;
  }

  add(p: PendingReport): void {
    this.pending.push(p);
    this.save();
    this.schedule();
  }

  private save(): void {
    if (!this.storage) return;
    try {
      this.storage.setItem(this.storageKey, JSON.stringify(this.pending));
    } catch {
      // Over the storage quota (a big screenshot): keep the rest of each report there; memory keeps all.
      try {
        this.storage.setItem(this.storageKey, JSON.stringify(this.pending.map((p) => ({ ...p, body: { ...p.body, attachments: [] } }))));
      } catch {
        /* storage unavailable: memory only */
      }
    }
  }

  schedule(): void {
    if (this.timer || this.pending.length === 0) return;
    const attempts = Math.min(...this.pending.map((p) => p.attempts));
    this.timer = setTimeout(
      () => {
        this.timer = undefined;
        void this.flush();
      },
      BACKOFF_MS[Math.min(attempts, BACKOFF_MS.length - 1)],
    );
  }

  async flush(): Promise<void> {
    if (this.flushing) return;
    this.flushing = true;
    try {
      for (const p of [...this.pending]) {
        const r = await this.send(p);
        if (r.ok || !r.retry) {
          this.pending = this.pending.filter((x) => x !== p);
          this.save();
          if (r.ok) this.onSent(p, r.value);
          else this.onDropped(p, r.message);
        } else {
          p.attempts += 1;
          this.save();
        }
      }
    } finally {
      this.flushing = false;
      this.schedule();
    }
  }
}
