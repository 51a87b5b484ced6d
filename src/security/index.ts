export { Vault } from './vault.js';
export { KeyringMasterKey, generateKeyringEntry, loadOrCreateLocalKeyring, addLocalKeyringVersion } from './master-key.js';
export { issueApiKey, verifyApiKey, revokeApiKey, parseApiKey, formatApiKey, scryptSecretHash, type SecretHash, type VerifiedApiKey } from './api-keys.js';
export { ReplayGuard, SIGNED_REQUEST_REPLAY_TTL_MS } from './replay-guard.js';
export { forgetRateLimits, RateLimiter, type RateLimitRule, type RateLimitCheck } from './rate-limit.js';
export { ApiKeyVerifier, DEFAULT_API_KEY_LIMITS, type ApiKeyLimits } from './api-key-verifier.js';
export { scrub, scrubText, isCardNumber, type ScrubKind } from './scrub.js';
