import { benchLine, formatBenchLine, goalMet } from '../../bench/bench-line.js';

describe('BENCH line', () => {
  it('prints one JSON object after BENCH with the ratio to the baseline and the goal evaluated', () => {
    const line = formatBenchLine({ name: 'guardrail/check', metric: 'p95_ms', value: 250, baseline: 25, goal: 'ratio <= 8 and value <= 300' });
    expect(line.startsWith('BENCH {')).toBe(true);
    expect(JSON.parse(line.slice('BENCH '.length))).toEqual({
      name: 'guardrail/check',
      metric: 'p95_ms',
      value: 250,
      baseline: 25,
      ratio: 10,
      goal: 'ratio <= 8 and value <= 300',
      met: false,
    });
  });

  it('meets a goal only when every clause holds', () => {
    expect(goalMet('ratio <= 8 and value <= 300', 200, 7.9)).toBe(true);
    expect(goalMet('ratio <= 8 and value <= 300', 301, 7.9)).toBe(false);
    expect(goalMet('value >= 0.97', 0.96, null)).toBe(false);
    expect(goalMet('value == 0', 0, null)).toBe(true);
    expect(goalMet('value > 1', 1, null)).toBe(false);
    expect(goalMet('value < 1', 0.5, null)).toBe(true);
  });

  it('does not meet a ratio goal without a baseline', () => {
    expect(benchLine({ name: 'x', metric: 'p99_ms', value: 5, goal: 'ratio <= 1.5' })).toMatchObject({ baseline: null, ratio: null, met: false });
  });

  it('refuses a goal clause it cannot read unless met is given', () => {
    expect(() => benchLine({ name: 'x', metric: 'n', value: 1, goal: 'zero refused' })).toThrow(/not understood/);
    expect(benchLine({ name: 'x', metric: 'n', value: 1, goal: 'zero refused', met: true }).met).toBe(true);
  });

  it('prints null for a figure without a goal and for a value that is not finite', () => {
    expect(benchLine({ name: 'x', metric: 'p50_ms', value: Number.NaN, baseline: 2 })).toEqual({
      name: 'x',
      metric: 'p50_ms',
      value: null,
      baseline: 2,
      ratio: null,
      goal: null,
      met: null,
    });
  });

  it('rounds to four significant digits', () => {
    expect(benchLine({ name: 'x', metric: 'm', value: 123.456789, baseline: 10 })).toMatchObject({ value: 123.5, ratio: 12.35 });
  });
});
