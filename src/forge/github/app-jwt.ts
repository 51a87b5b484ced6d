import { createPrivateKey } from 'node:crypto';
import { SignJWT } from 'jose';

/**
 * GitHub App JWT (RS256). `iat` is backdated 60 s for clock drift and the token lives
 * 9 minutes, under GitHub's 10-minute ceiling, so a slightly fast clock is still accepted.
 */
export async function signAppJwt(appId: string | number, privateKeyPem: string, now = Date.now()): Promise<string> {
  const iat = Math.floor(now / 1000) - 60;
  return new SignJWT({})
    .setProtectedHeader({ alg: 'RS256', typ: 'JWT' })
    .setIssuer(String(appId))
    .setIssuedAt(iat)
    .setExpirationTime(iat + 600)
    .sign(createPrivateKey(privateKeyPem));
}
