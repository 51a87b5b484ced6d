/** A real RSA key pair for App JWTs, generated once per test file. */
import { generateKeyPairSync } from 'node:crypto';

export function makeAppKeys(): { privateKey: string; publicKey: string } {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return {
    // GitHub hands out PKCS#1 PEMs ("BEGIN RSA PRIVATE KEY").
    privateKey: privateKey.export({ type: 'pkcs1', format: 'pem' }).toString(),
    publicKey: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
  };
}
