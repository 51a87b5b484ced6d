// An S3-compatible server on loopback for tests: s3rver (npm, Node 20, files in a temp
// directory, checks SigV4 signatures with its built-in S3RVER/S3RVER account), behind a
// small recording proxy so a test can see exactly which requests and headers the bucket got.
import { once } from 'node:events';
import { createServer, request, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import S3rver from 's3rver';
import type { S3BlobConfig } from '../../src/config/index.js';

export interface SeenRequest {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
}

export interface TestS3 {
  /** Config for S3BlobStore pointing at the proxy. */
  config(prefix?: string): S3BlobConfig;
  /** Every request the server received, in order. */
  seen: SeenRequest[];
  /** Where a presigned URL would be fetched (the proxy). */
  endpoint: string;
  stop(): Promise<void>;
}

export const TEST_BUCKET = 'userz-test';

export async function startTestS3(): Promise<TestS3> {
  const dir = await mkdtemp(join(tmpdir(), 'userz-s3-'));
  const s3 = new S3rver({ address: '127.0.0.1', port: 0, silent: true, directory: dir, configureBuckets: [{ name: TEST_BUCKET, configs: [] }] });
  const server = (await s3.run()) as unknown as AddressInfo;
  const upstreamPort = server.port;
  const seen: SeenRequest[] = [];
  const proxy: Server = createServer((req, res) => {
    seen.push({ method: req.method ?? '', url: req.url ?? '', headers: { ...req.headers } });
    const up = request({ host: '127.0.0.1', port: upstreamPort, method: req.method, path: req.url, headers: req.headers }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    up.on('error', () => res.destroy());
    req.pipe(up);
  });
  proxy.listen(0, '127.0.0.1');
  await once(proxy, 'listening');
  const endpoint = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
  return {
    seen,
    endpoint,
    config: (prefix = '') => ({
      bucket: TEST_BUCKET,
      prefix,
      region: 'us-east-1',
      endpoint,
      credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
    }),
    async stop() {
      proxy.closeAllConnections();
      await new Promise<void>((resolve) => proxy.close(() => resolve()));
      await s3.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
