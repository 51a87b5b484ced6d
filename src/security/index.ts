export { Vault, type Sealed, type SecretKind } from './vault.js';
export {
  KeyringMasterKey,
  parseKeyring,
  generateKeyringEntry,
  loadOrCreateLocalKeyring,
  addLocalKeyringVersion,
  type MasterKeyProvider,
} from './master-key.js';
export {
  issueApiKey,
  verifyApiKey,
  revokeApiKey,
  parseApiKey,
  formatApiKey,
  invalidApiKey,
  scryptSecretHash,
  type SecretHash,
  type IssuedApiKey,
  type VerifiedApiKey,
} from './api-keys.js';
export { ReplayGuard, SIGNED_REQUEST_REPLAY_TTL_MS } from './replay-guard.js';
export { RateLimiter, type RateLimitRule, type RateLimitCheck } from './rate-limit.js';
export { ApiKeyVerifier, DEFAULT_API_KEY_LIMITS, type ApiKeyLimits, type ApiKeyVerifierOptions } from './api-key-verifier.js';
export { ConcurrencyGate } from './concurrency-gate.js';
export { scrub, scrubText, isCardNumber, type Scrubbed, type ScrubKind } from './scrub.js';
