import type { Logger } from 'pino';

/** How many unexpected errors the process survived since start (for metrics and tests). */
export const processGuardCounts = { unhandledRejection: 0, uncaughtException: 0 };

let installed = false;

/**
 * Node ends the process on an unhandled rejection or an uncaught exception. A server that
 * holds acknowledged work must not die of one bad request, so the server start path
 * installs these once: they count and log the error's name and code only (a message can
 * carry request data), and the process keeps serving. Every request path still catches its
 * own errors (http/router.ts); reaching here is a bug to fix, which the log line says.
 */
export function installProcessGuard(log: Logger): void {
  if (installed) return;
  installed = true;
  const guardLog = log.child({ name: 'process-guard' });
  const describe = (e: unknown) => ({
    errorName: e instanceof Error ? e.name : typeof e,
    errorCode: e instanceof Error && 'code' in e && typeof e.code === 'string' ? e.code : undefined,
  });
  process.on('unhandledRejection', (reason) => {
    processGuardCounts.unhandledRejection++;
    guardLog.error({ ...describe(reason), count: processGuardCounts.unhandledRejection }, 'Unhandled promise rejection survived (a bug)');
  });
  process.on('uncaughtException', (err) => {
    processGuardCounts.uncaughtException++;
    guardLog.error({ ...describe(err), count: processGuardCounts.uncaughtException }, 'Uncaught exception survived (a bug)');
  });
}
