import { createHmac, randomBytes } from 'node:crypto';

/**
 * `Userz-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">`, keyed with the
 * endpoint's whole secret (`whsec_…`) as UTF-8: the scheme Stripe's receivers already know,
 * so the timestamp is signed with the body and a receiver can refuse old replays.
 */
export function signatureHeader(secret: string, timestamp: number, body: string): string {
  const mac = createHmac('sha256', secret).update(`${timestamp}.${body}`, 'utf8').digest('hex');
  return `t=${timestamp},v1=${mac}`;
}

/** A new endpoint secret: 24 random bytes, shown once. */
export function newEndpointSecret(): string {
  return `whsec_${randomBytes(24).toString('base64url')}`;
}
