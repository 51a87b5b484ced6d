import { UserzError } from '../../errors.js';

const KEY = /^[A-Za-z0-9_-][A-Za-z0-9_.-]*(\/[A-Za-z0-9_-][A-Za-z0-9_.-]*)*$/;

/** Blob keys are checked the same way by every store, so a key that works locally works in a bucket and never names a path outside the store. */
export function checkBlobKey(key: string): string {
  if (!KEY.test(key) || key.split('/').some((s) => s === '..' || s === '.')) {
    throw new UserzError('blob_bad_key', 'Blob keys are slash-separated letters, digits, dots, dashes and underscores');
  }
  return key;
}

/** A prefix is '' (everything) or a key, optionally ending in '/'. */
export function checkBlobPrefix(prefix: string): string {
  if (prefix === '') return prefix;
  checkBlobKey(prefix.endsWith('/') ? prefix.slice(0, -1) : prefix);
  return prefix;
}
