import { createHmac, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export type VerifyUserzSignature = (secret: string, header: string | undefined, body: string | Buffer, nowSeconds?: number) => boolean;

/**
 * The receiver's verification snippet exactly as docs/webhooks.md shows it (the first
 * ```js block), so the tests verify deliveries with what customers copy.
 */
export function documentedVerifier(): VerifyUserzSignature {
  const doc = readFileSync(join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'docs', 'webhooks.md'), 'utf8');
  const block = /```js\n([\s\S]*?)```/.exec(doc)?.[1];
  if (!block?.includes('function verifyUserzSignature')) throw new Error('docs/webhooks.md has no verifyUserzSignature snippet');
  const body = block.replace(/^import .*$/m, '').replace('export function', 'function');
  return new Function('createHmac', 'timingSafeEqual', `${body}\nreturn verifyUserzSignature;`)(createHmac, timingSafeEqual) as VerifyUserzSignature;
}
