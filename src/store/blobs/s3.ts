import { Readable } from 'node:stream';
import {
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadBucketCommand,
  ListObjectsV2Command,
  NoSuchKey,
  PutObjectCommand,
  S3Client,
  type ServerSideEncryption,
} from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { UserzError } from '../../errors.js';
import { MAX_PRESIGN_SECONDS, type BlobEntry, type BlobStore } from './interface.js';
import { checkBlobKey, checkBlobPrefix } from './key.js';
import type { S3BlobConfig } from '../../config/index.js';

/** S3 DeleteObjects takes at most 1000 keys per request. */
const DELETE_BATCH = 1000;

/**
 * Blobs in a private S3 bucket. Every put asks for server-side encryption and never
 * sends an ACL (the bucket's own policy, ideally "bucket owner enforced", decides, and
 * nothing is made public here); reads go through Userz or through a presigned GET that
 * expires within minutes.
 */
export class S3BlobStore implements BlobStore {
  private readonly client: S3Client;

  constructor(
    private readonly config: S3BlobConfig,
    private readonly opts: { now?: () => Date } = {},
  ) {
    this.client = new S3Client({
      region: config.region,
      endpoint: config.endpoint,
      forcePathStyle: config.endpoint !== undefined,
      credentials: config.credentials,
      // Checksums only where S3 requires them: S3-compatible services differ in which
      // flexible-checksum trailers they accept, and TLS already protects the body.
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
    });
  }

  private objectKey(key: string): string {
    return this.config.prefix + checkBlobKey(key);
  }

  private encryption(): { ServerSideEncryption: ServerSideEncryption; SSEKMSKeyId?: string } {
    return this.config.kmsKeyId ? { ServerSideEncryption: 'aws:kms', SSEKMSKeyId: this.config.kmsKeyId } : { ServerSideEncryption: 'AES256' };
  }

  async put(key: string, data: Buffer | Readable, meta?: { contentType?: string }): Promise<{ size: number }> {
    // Blobs are bounded (intake caps a body at 8 MB, run logs are budgeted), so a stream is
    // read into memory: PutObject needs a length, and one request is atomic where a
    // multipart upload is not.
    const body = Buffer.isBuffer(data) ? data : await readAll(data);
    await this.client.send(
      new PutObjectCommand({
        Bucket: this.config.bucket,
        Key: this.objectKey(key),
        Body: body,
        ContentLength: body.length,
        ContentType: meta?.contentType ?? 'application/octet-stream',
        ...this.encryption(),
      }),
    );
    return { size: body.length };
  }

  async get(key: string): Promise<Buffer | null> {
    try {
      const answer = await this.client.send(new GetObjectCommand({ Bucket: this.config.bucket, Key: this.objectKey(key) }));
      if (!answer.Body) return Buffer.alloc(0);
      return Buffer.from(await answer.Body.transformToByteArray());
    } catch (e) {
      if (e instanceof NoSuchKey || (e as { name?: string }).name === 'NoSuchKey') return null;
      throw storeError(e);
    }
  }

  async delete(key: string): Promise<void> {
    await this.client.send(new DeleteObjectCommand({ Bucket: this.config.bucket, Key: this.objectKey(key) })).catch((e: unknown) => {
      throw storeError(e);
    });
  }

  async list(prefix: string): Promise<BlobEntry[]> {
    checkBlobPrefix(prefix);
    const found: BlobEntry[] = [];
    let token: string | undefined;
    do {
      const page = await this.client.send(
        new ListObjectsV2Command({ Bucket: this.config.bucket, Prefix: this.config.prefix + prefix, ContinuationToken: token }),
      );
      for (const o of page.Contents ?? []) {
        if (!o.Key) continue;
        found.push({ key: o.Key.slice(this.config.prefix.length), size: o.Size ?? 0, modifiedAt: o.LastModified ?? new Date(0) });
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    return found.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  }

  async deleteOlderThan(prefix: string, cutoff: Date): Promise<number> {
    const old = (await this.list(prefix)).filter((e) => e.modifiedAt < cutoff);
    await this.deleteKeys(old.map((e) => e.key));
    return old.length;
  }

  async deletePrefix(prefix: string): Promise<number> {
    if (prefix === '') throw new UserzError('blob_bad_key', 'Refusing to delete every blob at once');
    const all = await this.list(prefix);
    await this.deleteKeys(all.map((e) => e.key));
    return all.length;
  }

  private async deleteKeys(keys: string[]): Promise<void> {
    for (let i = 0; i < keys.length; i += DELETE_BATCH) {
      const chunk = keys.slice(i, i + DELETE_BATCH);
      const answer = await this.client.send(
        new DeleteObjectsCommand({
          Bucket: this.config.bucket,
          Delete: { Objects: chunk.map((k) => ({ Key: this.objectKey(k) })), Quiet: true },
        }),
      );
      if (answer.Errors && answer.Errors.length > 0) {
        throw new UserzError('blob_store_failed', `The blob store refused to delete ${answer.Errors.length} blobs`, { retryable: true });
      }
    }
  }

  async presignGet(key: string, expiresInSeconds: number): Promise<string> {
    const seconds = Math.min(Math.max(1, Math.floor(expiresInSeconds)), MAX_PRESIGN_SECONDS);
    return getSignedUrl(this.client, new GetObjectCommand({ Bucket: this.config.bucket, Key: this.objectKey(key) }), {
      expiresIn: seconds,
      signingDate: this.opts.now?.() ?? new Date(),
    });
  }

  async ping(): Promise<void> {
    await this.client.send(new HeadBucketCommand({ Bucket: this.config.bucket })).catch((e: unknown) => {
      throw storeError(e);
    });
  }

  close(): void {
    this.client.destroy();
  }
}

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as string));
  return Buffer.concat(chunks);
}

/** SDK errors carry request ids and sometimes the URL; the name and status are what callers need. */
function storeError(e: unknown): UserzError {
  if (e instanceof UserzError) return e;
  const err = e as { name?: string; $metadata?: { httpStatusCode?: number } };
  const status = err.$metadata?.httpStatusCode;
  return new UserzError('blob_store_failed', `The blob store answered ${err.name ?? 'an error'}${status ? ` (${status})` : ''}`, {
    retryable: status === undefined || status >= 500,
  });
}
