/** Small real gzipped tarballs for archive tests, built in memory with tar-stream + zlib. */
import { gzipSync } from 'node:zlib';
import tar from 'tar-stream';

export interface TarEntry {
  name: string;
  type?: 'file' | 'directory' | 'symlink' | 'link' | 'pax-global-header';
  content?: string;
  linkname?: string;
}

export async function makeTarGz(entries: TarEntry[]): Promise<Buffer> {
  const pack = tar.pack();
  const chunks: Buffer[] = [];
  const done = new Promise<void>((resolve, reject) => {
    pack.on('data', (c: unknown) => void chunks.push(c as Buffer));
    pack.on('end', () => resolve());
    pack.on('error', reject);
  });
  let prefix: Buffer = Buffer.alloc(0);
  for (const e of entries) {
    if (e.type === 'pax-global-header') {
      prefix = await paxGlobalHeader(e.content ?? 'abc');
      continue;
    }
    if (e.type === undefined || e.type === 'file') pack.entry({ name: e.name, type: 'file', mode: 0o644 }, e.content ?? '');
    else pack.entry({ name: e.name, type: e.type, linkname: e.linkname });
  }
  pack.finalize();
  await done;
  return gzipSync(Buffer.concat([prefix, ...chunks]));
}

/**
 * The `g` record git archive (and so GitHub) puts first, carrying the commit id. tar-stream
 * cannot write one, so a file record is re-flagged by hand and its checksum recomputed.
 */
async function paxGlobalHeader(comment: string): Promise<Buffer> {
  const record = `comment=${comment}\n`;
  let len = record.length + 3;
  len = record.length + String(len).length + 1;
  const pack = tar.pack();
  const chunks: Buffer[] = [];
  pack.on('data', (c: unknown) => void chunks.push(c as Buffer));
  const ended = new Promise<void>((resolve) => pack.on('end', () => resolve()));
  pack.entry({ name: 'pax_global_header', type: 'file' }, `${len} ${record}`);
  pack.finalize();
  await ended;
  const raw = Buffer.concat(chunks);
  const out = Buffer.from(raw.subarray(0, 512 + 512 * Math.ceil(Buffer.byteLength(`${len} ${record}`) / 512)));
  out.write('g', 156, 'latin1');
  out.fill(' ', 148, 156);
  let sum = 0;
  for (let i = 0; i < 512; i++) sum += out[i]!;
  out.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'latin1');
  return out;
}

/** Reads an uncompressed tar stream back into name → content (directories and links as markers). */
export async function readTar(stream: NodeJS.ReadableStream): Promise<Map<string, string>> {
  const extract = tar.extract();
  const out = new Map<string, string>();
  extract.on('entry', (header, body, next) => {
    const chunks: Buffer[] = [];
    body.on('data', (c: unknown) => void chunks.push(c as Buffer));
    body.on('end', () => {
      out.set(header.name, header.type === 'file' ? Buffer.concat(chunks).toString('utf8') : `<${header.type}${header.linkname ? ` ${header.linkname}` : ''}>`);
      next();
    });
  });
  const finished = new Promise<void>((resolve, reject) => {
    extract.on('finish', () => resolve());
    extract.on('error', reject);
    stream.on('error', reject);
  });
  stream.pipe(extract as unknown as NodeJS.WritableStream);
  await finished;
  return out;
}
