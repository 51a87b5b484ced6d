/** Where blobs live when USERZ_BLOB_URL names a bucket (src/store/blobs/s3.ts). */
export interface S3BlobConfig {
  bucket: string;
  /** Key prefix inside the bucket, '' or ending in '/'. */
  prefix: string;
  region: string;
  /** An S3-compatible service (AWS_ENDPOINT_URL); path-style addressing is used with it. */
  endpoint?: string;
  /** Explicit keys (AWS_ACCESS_KEY_ID…); without them the SDK's default chain (instance role, web identity, profile) applies. */
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
  /** `AES256` (S3-managed keys) unless a KMS key is named, then `aws:kms` with that key. */
  kmsKeyId?: string;
}

const SEGMENT = /^[A-Za-z0-9_-][A-Za-z0-9_.-]*$/;

/** `s3://bucket/prefix` → bucket and a prefix that is '' or ends in '/'; null when it is not one. */
export function parseBlobUrl(url: string): { bucket: string; prefix: string } | null {
  const m = /^s3:\/\/([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])(\/.*)?$/.exec(url);
  if (!m) return null;
  const rest = (m[2] ?? '').replace(/^\/+/, '').replace(/\/+$/, '');
  if (rest !== '' && !rest.split('/').every((s) => SEGMENT.test(s) && s !== '.' && s !== '..')) return null;
  return { bucket: m[1]!, prefix: rest === '' ? '' : `${rest}/` };
}
