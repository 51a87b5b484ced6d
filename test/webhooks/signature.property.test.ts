import fc from 'fast-check';
import { isPublicAddress } from '../../src/webhooks/address.js';
import { newEndpointSecret, signatureHeader } from '../../src/webhooks/sign.js';
import { documentedVerifier } from './verify-snippet.js';

const verify = documentedVerifier();

describe('delivery signatures (properties)', () => {
  it('the documented snippet accepts every signed body and refuses any changed byte, secret or stale time', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 400 }), fc.integer({ min: 1_600_000_000, max: 2_000_000_000 }), fc.nat(), (body, t, at) => {
        const secret = newEndpointSecret();
        const header = signatureHeader(secret, t, body);
        expect(verify(secret, header, body, t)).toBe(true);
        expect(verify(secret, header, Buffer.from(body, 'utf8'), t + 300)).toBe(true);
        expect(verify(secret, header, body, t + 301)).toBe(false);
        expect(verify(secret, header, body, t - 301)).toBe(false);
        expect(verify(newEndpointSecret(), header, body, t)).toBe(false);
        const bytes = Buffer.from(body, 'utf8');
        if (bytes.length > 0) {
          const i = at % bytes.length;
          bytes[i] = bytes[i]! ^ 0x01;
          expect(verify(secret, header, bytes, t)).toBe(false);
        }
        expect(verify(secret, header.replace('t=', 't=1'), body, t)).toBe(false);
      }),
      { numRuns: 200 },
    );
  });

  it('never calls an address in a private, loopback, link-local or mapped range public', () => {
    const octet = fc.integer({ min: 0, max: 255 });
    const privateV4 = fc.oneof(
      fc.tuple(octet, octet, octet).map(([b, c, d]) => `10.${b}.${c}.${d}`),
      fc.tuple(octet, octet, octet).map(([b, c, d]) => `127.${b}.${c}.${d}`),
      fc.tuple(octet, octet).map(([c, d]) => `169.254.${c}.${d}`),
      fc.tuple(fc.integer({ min: 16, max: 31 }), octet, octet).map(([b, c, d]) => `172.${b}.${c}.${d}`),
      fc.tuple(octet, octet).map(([c, d]) => `192.168.${c}.${d}`),
      fc.tuple(fc.integer({ min: 64, max: 127 }), octet, octet).map(([b, c, d]) => `100.${b}.${c}.${d}`),
      fc.tuple(octet, octet, octet).map(([b, c, d]) => `0.${b}.${c}.${d}`),
    );
    fc.assert(
      fc.property(privateV4, (ip) => {
        expect(isPublicAddress(ip)).toBe(false);
        expect(isPublicAddress(`::ffff:${ip}`)).toBe(false);
      }),
    );
    for (const ip of ['::1', '::', 'fe80::1', 'fd00::1', 'fc12:3456::1', '64:ff9b::a00:1', '2002:a00:1::1', 'ff02::1', 'not-an-ip']) {
      expect(isPublicAddress(ip)).toBe(false);
    }
    for (const ip of ['93.184.216.34', '8.8.8.8', '2606:4700:4700::1111', '2a00:1450:4001:82b::200e']) expect(isPublicAddress(ip)).toBe(true);
  });
});
