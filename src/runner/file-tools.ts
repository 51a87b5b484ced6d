import { constants } from 'node:fs';
import { mkdir, open, readFile, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { z } from 'zod';
import { UserzError } from '../errors.js';
import { truncateOutput } from './output-limit.js';
import { resolveExisting, resolveForWrite, type Workspace } from './workspace-path.js';

/** Files bigger than this are not read whole: the model gets a slice (offset/limit). */
export const MAX_READ_BYTES = 256 * 1024;
/** Largest file the agent may write or produce by editing. */
export const MAX_WRITE_BYTES = 1024 * 1024;

export const ReadFileArgs = z.object({
  path: z.string(),
  offset: z.number().int().nonnegative().optional(),
  limit: z.number().int().positive().max(MAX_READ_BYTES).optional(),
});
export const WriteFileArgs = z.object({ path: z.string(), content: z.string() });
export const EditFileArgs = z.object({ path: z.string(), search: z.string().min(1), replace: z.string() });

export async function readWorkspaceFile(ws: Workspace, args: z.infer<typeof ReadFileArgs>): Promise<string> {
  const { abs } = await resolveExisting(ws, args.path);
  const st = await stat(abs);
  if (!st.isFile()) throw new UserzError('tool_not_a_file', 'Not a regular file');
  const offset = args.offset ?? 0;
  const limit = args.limit ?? MAX_READ_BYTES;
  const handle = await open(abs, constants.O_RDONLY | constants.O_NOFOLLOW);
  try {
    const buf = Buffer.alloc(Math.min(limit, Math.max(0, st.size - offset)));
    const { bytesRead } = await handle.read(buf, 0, buf.length, offset);
    const text = buf.subarray(0, bytesRead).toString('utf8');
    const rest = st.size - offset - bytesRead;
    return rest > 0 ? `${text}\n[… ${rest} more bytes; read again with offset ${offset + bytesRead}]` : text;
  } finally {
    await handle.close();
  }
}

async function writeNoFollow(abs: string, content: string): Promise<void> {
  // O_NOFOLLOW: even if a symlink appeared after the path check, the write does not follow it.
  const handle = await open(abs, constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC | constants.O_NOFOLLOW, 0o644);
  try {
    await handle.writeFile(content, 'utf8');
  } finally {
    await handle.close();
  }
}

function assertWritableSize(content: string): void {
  if (Buffer.byteLength(content) > MAX_WRITE_BYTES) {
    throw new UserzError('tool_content_too_large', `Content exceeds ${MAX_WRITE_BYTES} bytes`);
  }
}

export async function writeWorkspaceFile(ws: Workspace, args: z.infer<typeof WriteFileArgs>): Promise<string> {
  assertWritableSize(args.content);
  const { abs, rel } = await resolveForWrite(ws, args.path);
  await mkdir(dirname(abs), { recursive: true });
  // mkdir may have created directories; re-resolve so the final check sees the real tree.
  const again = await resolveForWrite(ws, args.path);
  if (again.abs !== abs) throw new UserzError('tool_path_changed', 'Path changed while writing');
  await writeNoFollow(abs, args.content);
  return `wrote ${Buffer.byteLength(args.content)} bytes to ${rel}`;
}

function countOccurrences(text: string, search: string): number {
  let count = 0;
  for (let at = text.indexOf(search); at !== -1; at = text.indexOf(search, at + 1)) count += 1;
  return count;
}

export async function editWorkspaceFile(ws: Workspace, args: z.infer<typeof EditFileArgs>): Promise<string> {
  const { abs, rel } = await resolveForWrite(ws, args.path);
  const st = await stat(abs).catch(() => null);
  if (!st?.isFile()) throw new UserzError('tool_not_found', 'No such file');
  if (st.size > MAX_WRITE_BYTES) throw new UserzError('tool_content_too_large', 'File too large to edit');
  const text = await readFile(abs, 'utf8');
  const count = countOccurrences(text, args.search);
  if (count === 0) throw new UserzError('tool_edit_no_match', 'Search text not found in the file');
  if (count > 1) {
    throw new UserzError('tool_edit_ambiguous', `Search text occurs ${count} times; include more context to make it unique`);
  }
  const at = text.indexOf(args.search);
  const next = text.slice(0, at) + args.replace + text.slice(at + args.search.length);
  assertWritableSize(next);
  await writeNoFollow(abs, next);
  return truncateOutput(`edited ${rel}`);
}
