import { UserzError, type UserzErrorCode } from '../../src/errors.js';
import { retryAfterMs, withRetry } from '../../src/forge/retry.js';

const failing = (code: UserzErrorCode, retryable: boolean, details?: Record<string, unknown>) => new UserzError(code, 'x', { retryable, details });

describe('withRetry', () => {
  it('retries retryable errors up to the attempt limit, then throws the last one', async () => {
    const waits: number[] = [];
    let calls = 0;
    const attempt = async (): Promise<string> => {
      calls++;
      throw failing('forge_unavailable', true);
    };
    await expect(withRetry(attempt, { attempts: 4, baseDelayMs: 100, maxDelayMs: 250, sleep: async (ms) => void waits.push(ms) })).rejects.toMatchObject({
      code: 'forge_unavailable',
    });
    expect(calls).toBe(4);
    expect(waits).toHaveLength(3);
    expect(waits.every((w) => w >= 0 && w <= 250)).toBe(true);
  });

  it('does not retry an error that is not retryable', async () => {
    let calls = 0;
    await expect(
      withRetry(
        async () => {
          calls++;
          throw failing('forge_forbidden', false);
        },
        { attempts: 5, baseDelayMs: 0, maxDelayMs: 0 },
      ),
    ).rejects.toMatchObject({ code: 'forge_forbidden' });
    expect(calls).toBe(1);
  });

  it('waits what Retry-After asked, capped by the policy', async () => {
    const waits: number[] = [];
    let calls = 0;
    const result = await withRetry(
      async () => {
        if (++calls < 3) throw failing('forge_rate_limited', true, { retryAfterMs: calls === 1 ? 2000 : 60_000 });
        return 'ok';
      },
      { attempts: 3, baseDelayMs: 1, maxDelayMs: 5000, sleep: async (ms) => void waits.push(ms) },
    );
    expect(result).toBe('ok');
    expect(waits).toEqual([2000, 5000]);
  });
});

describe('retryAfterMs', () => {
  it('reads seconds and HTTP dates, and ignores garbage', () => {
    expect(retryAfterMs('3')).toBe(3000);
    expect(retryAfterMs(new Date(Date.now() + 60_000).toUTCString())).toBeGreaterThan(50_000);
    expect(retryAfterMs('soon')).toBeUndefined();
    expect(retryAfterMs(null)).toBeUndefined();
  });
});
