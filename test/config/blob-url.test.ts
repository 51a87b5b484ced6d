import { loadConfig, parseBlobUrl } from '../../src/config/index.js';

const base = { USERZ_DATA_DIR: '.userz-test' };

describe('USERZ_BLOB_URL', () => {
  it('parses a bucket and a prefix that ends in a slash', () => {
    expect(parseBlobUrl('s3://userz-blobs')).toEqual({ bucket: 'userz-blobs', prefix: '' });
    expect(parseBlobUrl('s3://userz-blobs/prod/eu/')).toEqual({ bucket: 'userz-blobs', prefix: 'prod/eu/' });
  });

  it.each(['s3://UPPER/x', 's3://a', 'https://bucket/x', 's3://bucket/../x', 's3://bucket/sp ace'])('refuses %j', (url) => {
    expect(parseBlobUrl(url)).toBeNull();
  });

  it('keeps the local directory when unset', () => {
    expect(loadConfig(base).blobS3).toBeUndefined();
  });

  it('reads region, endpoint, keys and the KMS key from the standard variables', () => {
    const config = loadConfig({
      ...base,
      USERZ_BLOB_URL: 's3://userz-blobs/prod',
      AWS_REGION: 'eu-central-1',
      AWS_ENDPOINT_URL: 'http://127.0.0.1:9000',
      AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE',
      AWS_SECRET_ACCESS_KEY: 'secret-example',
      USERZ_BLOB_KMS_KEY_ID: 'alias/userz',
    });
    expect(config.blobS3).toEqual({
      bucket: 'userz-blobs',
      prefix: 'prod/',
      region: 'eu-central-1',
      endpoint: 'http://127.0.0.1:9000',
      credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret-example', sessionToken: undefined },
      kmsKeyId: 'alias/userz',
    });
  });

  it('leaves credentials to the SDK default chain when no keys are set', () => {
    expect(loadConfig({ ...base, USERZ_BLOB_URL: 's3://userz-blobs', AWS_DEFAULT_REGION: 'us-east-1' }).blobS3).toMatchObject({
      region: 'us-east-1',
      credentials: undefined,
      endpoint: undefined,
    });
  });

  it('names each problem: no region, half a key pair, both stores', () => {
    expect(() => loadConfig({ ...base, USERZ_BLOB_URL: 's3://userz-blobs', USERZ_BLOB_DIR: '/x', AWS_ACCESS_KEY_ID: 'AKID' })).toThrow(
      expect.objectContaining({
        problems: expect.arrayContaining([
          'AWS_REGION is required with USERZ_BLOB_URL',
          'AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are set together',
          'USERZ_BLOB_DIR and USERZ_BLOB_URL are both set: choose one blob store',
        ]),
      }),
    );
    expect(() => loadConfig({ ...base, USERZ_BLOB_URL: 'gs://bucket' })).toThrow(/USERZ_BLOB_URL/);
  });
});
