import { UserzError } from '../../errors.js';
import { isForgeCode } from '../errors.js';

/** Gitbeaker answers are loosely typed; we read the few fields we use through this. */
export type Json = Record<string, unknown>;

export function field<T>(obj: unknown, key: string, guard: (v: unknown) => v is T): T {
  const value = obj !== null && typeof obj === 'object' ? (obj as Json)[key] : undefined;
  if (!guard(value)) throw new UserzError('forge_bad_answer', `GitLab answered without a usable ${key}`);
  return value;
}

export const isString = (v: unknown): v is string => typeof v === 'string';
export const isNumber = (v: unknown): v is number => typeof v === 'number';

/** A 404 as null. */
export async function orNull<T>(call: Promise<T>): Promise<T | null> {
  try {
    return await call;
  } catch (e) {
    if (isForgeCode(e, 'forge_not_found')) return null;
    throw e;
  }
}
