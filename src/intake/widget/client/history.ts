// The reporter's own reports, remembered on this browser (localStorage) with their status
// token, so the widget can show how each is doing. Nothing here names a repository.
export type Phase = 'received' | 'being_fixed' | 'fix_proposed' | 'fixed' | 'not_planned';

export interface RememberedReport {
  id: string;
  statusToken: string;
  sentAt: number;
  summary: string;
  phase: Phase;
}

const MAX = 20;

export class ReportHistory {
  constructor(
    private readonly storage: Storage | null,
    private readonly key: string,
  ) {}

  list(): RememberedReport[] {
    try {
      const v = JSON.parse(this.storage?.getItem(this.key) ?? '[]') as RememberedReport[];
      return Array.isArray(v) ? v : [];
    } catch {
      return [];
    }
  }

  private write(list: RememberedReport[]): void {
    try {
      this.storage?.setItem(this.key, JSON.stringify(list.slice(-MAX)));
    } catch {
      /* storage blocked: nothing remembered */
    }
  }

  add(r: RememberedReport): void {
    this.write([...this.list().filter((x) => x.id !== r.id), r]);
  }

  setPhase(id: string, phase: Phase): void {
    this.write(this.list().map((r) => (r.id === id ? { ...r, phase } : r)));
  }
}
