import type { IncomingMessage } from 'node:http';
import { bearerToken, clientIp } from '../../src/http/index.js';

const req = (headers: Record<string, string | string[]>, remoteAddress = '10.0.0.9') => ({ headers, socket: { remoteAddress } }) as unknown as IncomingMessage;

describe('bearerToken (the one parser of Authorization: Bearer)', () => {
  it('returns the credential exactly as sent after the scheme', () => {
    expect(bearerToken(req({ authorization: 'Bearer sk_abc' }))).toBe('sk_abc');
    expect(bearerToken(req({ authorization: 'Bearer  sk_abc' }))).toBe(' sk_abc');
  });

  it('is undefined without a header, with another scheme, or without a token', () => {
    expect(bearerToken(req({}))).toBeUndefined();
    expect(bearerToken(req({ authorization: 'Basic dXNlcjpwdw==' }))).toBeUndefined();
    expect(bearerToken(req({ authorization: 'bearer sk_abc' }))).toBeUndefined();
    expect(bearerToken(req({ authorization: 'Bearer ' }))).toBeUndefined();
    expect(bearerToken(req({ authorization: 'Bearer' }))).toBeUndefined();
  });
});

describe('clientIp', () => {
  it('takes the socket address unless a trusted proxy appends X-Forwarded-For, then its last entry', () => {
    expect(clientIp(req({ 'x-forwarded-for': '1.1.1.1, 2.2.2.2' }))).toBe('10.0.0.9');
    expect(clientIp(req({ 'x-forwarded-for': '1.1.1.1, 2.2.2.2' }), true)).toBe('2.2.2.2');
    expect(clientIp(req({}), true)).toBe('10.0.0.9');
  });
});
