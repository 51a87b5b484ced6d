import { readFileSync } from 'node:fs';
import { Metrics } from '../../src/metrics/index.js';

const dashboard = JSON.parse(readFileSync(new URL('../../deploy/grafana-userz.json', import.meta.url), 'utf8')) as {
  uid: string;
  panels: Array<{ type: string; title: string; targets?: Array<{ expr: string }> }>;
};

describe('deploy/grafana-userz.json', () => {
  const exprs = dashboard.panels.flatMap((p) => (p.targets ?? []).map((t) => t.expr));
  const used = new Set(exprs.flatMap((e) => [...e.matchAll(/\buserz_[a-z_]+/g)].map((m) => m[0].replace(/_(bucket|sum|count)$/, ''))));

  it('queries only metrics the registry exports, and charts every one of them', async () => {
    const exported = new Set(
      (await new Metrics().render()).body
        .split('\n')
        .filter((l) => l.startsWith('# TYPE '))
        .map((l) => l.split(' ')[2]!),
    );
    expect(used.size).toBeGreaterThan(0);
    for (const name of used) expect(exported).toContain(name);
    for (const name of exported) expect(used).toContain(name);
  });

  it('has a stable uid, titled panels and a job filter in every query', () => {
    expect(dashboard.uid).toBe('userz-overview');
    for (const p of dashboard.panels) expect(p.title.length).toBeGreaterThan(0);
    for (const e of exprs) expect(e).toContain('job=~"$job"');
  });
});
