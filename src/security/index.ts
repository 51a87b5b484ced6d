export { Vault, type Sealed, type SecretKind } from './vault.js';
export { KeyringMasterKey, parseKeyring, generateKeyringEntry, loadOrCreateLocalKeyring, addLocalKeyringVersion, type MasterKeyProvider } from './master-key.js';
export { issueApiKey, verifyApiKey, revokeApiKey, parseApiKey, formatApiKey, invalidApiKey, type IssuedApiKey, type VerifiedApiKey } from './api-keys.js';
export { ReplayGuard, SIGNED_REQUEST_REPLAY_TTL_MS } from './replay-guard.js';
export { RateLimiter, type RateLimitRule } from './rate-limit.js';
export { scrub, scrubText, isCardNumber, type Scrubbed, type ScrubKind } from './scrub.js';
