// One contract for every BlobStore: the local directory (the embedded default) and S3,
// here against s3rver on loopback (test/helpers/s3-server.ts).
import { mkdtemp, rm, utimes } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { LocalBlobStore, type BlobStore } from '../../src/store/index.js';
import { S3BlobStore } from '../../src/store/blobs/s3.js';
import { startTestS3, type TestS3 } from '../helpers/s3-server.js';

interface Subject {
  store: BlobStore;
  /** Makes a blob look written at `when` (mtime for files; for S3 a fresh store can only be read, so this re-puts and the test uses a cutoff in the future instead). */
  age?: (key: string, when: Date) => Promise<void>;
  close(): Promise<void>;
}

let s3: TestS3;
let localDir: string;

beforeAll(async () => {
  s3 = await startTestS3();
  localDir = await mkdtemp(join(tmpdir(), 'userz-blobs-'));
});

afterAll(async () => {
  await s3?.stop();
  if (localDir) await rm(localDir, { recursive: true, force: true });
});

let n = 0;
const factories: Array<[string, () => Subject]> = [
  [
    'local directory',
    () => {
      const root = join(localDir, `s${n++}`);
      return {
        store: new LocalBlobStore(root),
        age: (key, when) => utimes(join(root, key), when, when),
        close: async () => undefined,
      };
    },
  ],
  [
    's3 (s3rver on loopback)',
    () => {
      const store = new S3BlobStore(s3.config(`t${n++}/`));
      return { store, close: async () => store.close() };
    },
  ],
];

describe.each(factories)('BlobStore contract: %s', (_name, make) => {
  let subject: Subject;
  let store: BlobStore;
  beforeEach(() => {
    subject = make();
    store = subject.store;
  });
  afterEach(() => subject.close());

  it('reads back exactly what was put, from a buffer and from a stream, and reports the size', async () => {
    const bytes = Buffer.from([0, 1, 2, 255, 254, 10, 13]);
    expect(await store.put('reports/rep_1/att_1', bytes, { contentType: 'image/png' })).toEqual({ size: 7 });
    expect(await store.get('reports/rep_1/att_1')).toEqual(bytes);
    const big = Buffer.alloc(300_000, 7);
    expect(await store.put('runs/run_1/transcript.jsonl', Readable.from([big.subarray(0, 1000), big.subarray(1000)]))).toEqual({ size: 300_000 });
    expect((await store.get('runs/run_1/transcript.jsonl'))!.equals(big)).toBe(true);
  });

  it('answers null for a blob that does not exist, and delete of a missing blob is not an error', async () => {
    expect(await store.get('reports/rep_none/att_x')).toBeNull();
    await expect(store.delete('reports/rep_none/att_x')).resolves.toBeUndefined();
  });

  it('overwrites a key and deletes it', async () => {
    await store.put('runs/run_2/changeset.json', Buffer.from('one'));
    await store.put('runs/run_2/changeset.json', Buffer.from('two'));
    expect((await store.get('runs/run_2/changeset.json'))!.toString()).toBe('two');
    await store.delete('runs/run_2/changeset.json');
    expect(await store.get('runs/run_2/changeset.json')).toBeNull();
  });

  it.each(['../escape', '/abs', 'a//b', 'a/./b', 'a/../b', 'sp ace', 'back\\slash', '', '.hidden'])('refuses the key %j', async (key) => {
    await expect(store.put(key, Buffer.from('x'))).rejects.toMatchObject({ code: 'blob_bad_key' });
    await expect(store.get(key)).rejects.toMatchObject({ code: 'blob_bad_key' });
  });

  it('lists by prefix in key order, without neighbours that only share a name prefix', async () => {
    await store.put('reports/rep_a/att_2', Buffer.from('22'));
    await store.put('reports/rep_a/att_1', Buffer.from('1'));
    await store.put('reports/rep_ab/att_1', Buffer.from('x'));
    await store.put('runs/run_a/log', Buffer.from('y'));
    const listed = await store.list('reports/rep_a/');
    expect(listed.map((e) => [e.key, e.size])).toEqual([
      ['reports/rep_a/att_1', 1],
      ['reports/rep_a/att_2', 2],
    ]);
    expect(Math.abs(listed[0]!.modifiedAt.getTime() - Date.now())).toBeLessThan(3_600_000);
    expect((await store.list('reports/')).map((e) => e.key)).toEqual(['reports/rep_a/att_1', 'reports/rep_a/att_2', 'reports/rep_ab/att_1']);
    expect((await store.list('')).length).toBe(4);
  });

  it('deletes everything under a prefix and nothing else, and refuses the empty prefix', async () => {
    await store.put('reports/rep_d/att_1', Buffer.from('1'));
    await store.put('reports/rep_d/att_2', Buffer.from('2'));
    await store.put('reports/rep_dd/att_1', Buffer.from('3'));
    expect(await store.deletePrefix('reports/rep_d/')).toBe(2);
    expect(await store.list('reports/')).toEqual([expect.objectContaining({ key: 'reports/rep_dd/att_1' })]);
    await expect(store.deletePrefix('')).rejects.toMatchObject({ code: 'blob_bad_key' });
  });

  it('deletes blobs written before a cutoff and keeps newer ones', async () => {
    await store.put('runs/run_o/log', Buffer.from('old'));
    await store.put('runs/run_n/log', Buffer.from('new'));
    if (subject.age) {
      await subject.age('runs/run_o/log', new Date(Date.now() - 40 * 86_400_000));
      expect(await store.deleteOlderThan('runs/', new Date(Date.now() - 30 * 86_400_000))).toBe(1);
      expect((await store.list('runs/')).map((e) => e.key)).toEqual(['runs/run_n/log']);
    } else {
      // A real bucket stamps LastModified itself: a cutoff before both keeps both, one after both removes both.
      expect(await store.deleteOlderThan('runs/', new Date(Date.now() - 3_600_000))).toBe(0);
      expect(await store.deleteOlderThan('runs/', new Date(Date.now() + 3_600_000))).toBe(2);
      expect(await store.list('runs/')).toEqual([]);
    }
  });

  it('answers ping', async () => {
    await expect(store.ping()).resolves.toBeUndefined();
  });
});

describe('S3BlobStore: private bucket', () => {
  it('asks for server-side encryption on every put and never sends an ACL', async () => {
    const store = new S3BlobStore(s3.config('sse/'));
    const from = s3.seen.length;
    await store.put('reports/rep_s/att_1', Buffer.from('png'), { contentType: 'image/png' });
    await store.put('runs/run_s/transcript.jsonl', Readable.from([Buffer.from('{}\n')]));
    await store.get('reports/rep_s/att_1');
    await store.deletePrefix('reports/rep_s/');
    store.close();
    const requests = s3.seen.slice(from);
    const puts = requests.filter((r) => r.method === 'PUT');
    expect(puts).toHaveLength(2);
    for (const put of puts) {
      expect(put.headers['x-amz-server-side-encryption']).toBe('AES256');
      expect(put.url.startsWith('/userz-test/sse/')).toBe(true);
    }
    for (const r of requests) {
      expect(Object.keys(r.headers).filter((h) => h.startsWith('x-amz-grant') || h === 'x-amz-acl')).toEqual([]);
      expect(r.url).not.toMatch(/[?&]acl(=|&|$)/);
    }
  });

  it('names the KMS key when one is configured', async () => {
    const store = new S3BlobStore({ ...s3.config('kms/'), kmsKeyId: 'alias/userz-blobs' });
    const from = s3.seen.length;
    // s3rver does not implement KMS; what matters here is what the bucket is asked for.
    await store.put('reports/rep_k/att_1', Buffer.from('x')).catch(() => undefined);
    store.close();
    const put = s3.seen.slice(from).find((r) => r.method === 'PUT')!;
    expect(put.headers['x-amz-server-side-encryption']).toBe('aws:kms');
    expect(put.headers['x-amz-server-side-encryption-aws-kms-key-id']).toBe('alias/userz-blobs');
  });

  it('hands out a presigned GET that works, lasts 15 minutes at most, and is refused once expired', async () => {
    const store = new S3BlobStore(s3.config('sign/'));
    await store.put('reports/rep_p/att_1', Buffer.from('screenshot bytes'));
    const url = await store.presignGet('reports/rep_p/att_1', 300);
    const parsed = new URL(url);
    expect(parsed.origin).toBe(s3.endpoint);
    expect(parsed.searchParams.get('X-Amz-Expires')).toBe('300');
    const answer = await fetch(url);
    expect(answer.status).toBe(200);
    expect(await answer.text()).toBe('screenshot bytes');

    const capped = new URL(await store.presignGet('reports/rep_p/att_1', 7 * 86_400));
    expect(capped.searchParams.get('X-Amz-Expires')).toBe('900');

    store.close();

    // A URL signed 10 minutes ago for 5 minutes is refused by the bucket.
    const earlier = new S3BlobStore(s3.config('sign/'), { now: () => new Date(Date.now() - 600_000) });
    const expired = await fetch(await earlier.presignGet('reports/rep_p/att_1', 300));
    expect(expired.status).toBe(403);
    expect(await expired.text()).toContain('Request has expired');
    earlier.close();
  });

  it('turns an unreachable bucket into a blob_store_failed error that names no URL or key', async () => {
    const store = new S3BlobStore({ ...s3.config(), bucket: 'no-such-bucket' });
    const err = await store.ping().catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'blob_store_failed' });
    expect(String((err as Error).message)).not.toMatch(/S3RVER|127\.0\.0\.1|http/);
    store.close();
  });
});

describe('LocalBlobStore', () => {
  it('has no presigned URLs: the server streams local blobs', async () => {
    const store: BlobStore = new LocalBlobStore(join(localDir, 'p'));
    expect(await store.presignGet('reports/rep_x/att_1', 60)).toBeNull();
  });
});
