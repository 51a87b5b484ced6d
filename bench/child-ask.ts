import type { ChildProcess } from 'node:child_process';

/**
 * Sends `msg` to a bench's child process and resolves with the `key` field of the first
 * message back that carries one (the children answer each question with a one-key reply).
 */
export function askChild<T>(child: ChildProcess, msg: Record<string, unknown>, key: string): Promise<T> {
  return new Promise((resolve) => {
    const on = (m: Record<string, unknown>) => {
      if (m[key] === undefined) return;
      child.off('message', on);
      resolve(m[key] as T);
    };
    child.on('message', on);
    child.send(msg);
  });
}
