import { lstat, realpath } from 'node:fs/promises';
import { join, sep } from 'node:path';
import { UserzError } from '../errors.js';

/**
 * Every tool path goes through here. A path is relative POSIX, has no `..`, no control
 * characters or backslashes, and no `.git` component in any case: writing `.git/config` or
 * `.git/hooks/*` would let the agent run code through git. After the lexical checks, the
 * real path (symlinks resolved) must still be inside the workspace and still free of `.git`,
 * so a link like `docs -> ../../etc` or `x -> .git` is refused too.
 */
export interface Workspace {
  /** Real (symlink-free) absolute path of the workspace root. */
  root: string;
}

export function pathRefused(reason: string, path: string): UserzError {
  return new UserzError('tool_path_refused', `Path refused: ${reason}`, { details: { path: path.slice(0, 300) } });
}

const FORBIDDEN_CHARS = /[\u0000-\u001f\u007f\\]/;

/** Lexical checks; returns the path's components ([] for the workspace root). */
export function splitWorkspacePath(path: string): string[] {
  if (typeof path !== 'string') throw pathRefused('not a string', String(path));
  if (path.length > 4096) throw pathRefused('too long', path);
  if (FORBIDDEN_CHARS.test(path)) throw pathRefused('control character or backslash', path);
  if (path.startsWith('/') || path.startsWith('~')) throw pathRefused('absolute', path);
  const parts = path.split('/').filter((p) => p !== '' && p !== '.');
  for (const part of parts) {
    if (part === '..') throw pathRefused('parent directory', path);
    if (part.toLowerCase() === '.git') throw pathRefused('.git component', path);
  }
  return parts;
}

function isInside(root: string, real: string): boolean {
  return real === root || real.startsWith(root + sep);
}

function assertRealInside(ws: Workspace, real: string, path: string): void {
  if (!isInside(ws.root, real)) throw pathRefused('leads outside the workspace', path);
  const relParts = real.slice(ws.root.length).split(sep).filter(Boolean);
  if (relParts.some((p) => p.toLowerCase() === '.git')) throw pathRefused('leads into .git', path);
}

async function lstatOrNull(p: string): Promise<import('node:fs').Stats | null> {
  try {
    return await lstat(p);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT' || (e as NodeJS.ErrnoException).code === 'ENOTDIR') return null;
    throw e;
  }
}

/** An existing file or directory, resolved through symlinks that stay inside. */
export async function resolveExisting(ws: Workspace, path: string): Promise<{ abs: string; rel: string }> {
  const parts = splitWorkspacePath(path);
  const abs = join(ws.root, ...parts);
  let real: string;
  try {
    real = await realpath(abs);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') {
      // A dangling symlink also lands here: say "not found" only if nothing is there.
      if (await lstatOrNull(abs)) throw pathRefused('dangling symlink', path);
      throw new UserzError('tool_not_found', 'No such file or directory', { details: { path: path.slice(0, 300) } });
    }
    throw e;
  }
  assertRealInside(ws, real, path);
  return { abs: real, rel: parts.join('/') };
}

/**
 * A path to write: the final component must not be a symlink (writes never follow links),
 * and the deepest existing ancestor must resolve inside the workspace. Missing
 * directories below it are new names without `..`, so they stay inside.
 */
export async function resolveForWrite(ws: Workspace, path: string): Promise<{ abs: string; rel: string }> {
  const parts = splitWorkspacePath(path);
  if (parts.length === 0) throw pathRefused('is the workspace root', path);
  const self = await lstatOrNull(join(ws.root, ...parts));
  if (self?.isSymbolicLink()) throw pathRefused('is a symlink', path);
  if (self?.isDirectory()) throw pathRefused('is a directory', path);
  return resolveBelowAncestor(ws, parts, path);
}

/**
 * A path handed to a git command that changes files: its directory must resolve inside
 * the workspace (the last component may be missing, or be a symlink that git records as
 * a link and does not follow).
 */
export async function assertParentInside(ws: Workspace, path: string): Promise<void> {
  const parts = splitWorkspacePath(path);
  if (parts.length === 0) return;
  await resolveBelowAncestor(ws, parts.slice(0, -1), path);
}

/**
 * A path handed to a git command that reads: the path itself, or its deepest existing
 * ancestor when it does not exist (a glob, a deleted file), resolves inside the workspace.
 * A symlink that leads out is refused even though git would not follow it.
 */
export async function assertResolvesInside(ws: Workspace, path: string): Promise<void> {
  await resolveBelowAncestor(ws, splitWorkspacePath(path), path);
}

async function resolveBelowAncestor(ws: Workspace, parts: string[], path: string): Promise<{ abs: string; rel: string }> {
  for (let n = parts.length; n >= 0; n -= 1) {
    const ancestor = join(ws.root, ...parts.slice(0, n));
    const st = await lstatOrNull(ancestor);
    if (!st) continue;
    const real = await realpath(ancestor).catch(() => {
      throw pathRefused('dangling symlink on the way', path);
    });
    assertRealInside(ws, real, path);
    return { abs: join(real, ...parts.slice(n)), rel: parts.join('/') };
  }
  throw pathRefused('workspace root is missing', path);
}

export async function openWorkspace(root: string): Promise<Workspace> {
  return { root: await realpath(root) };
}
