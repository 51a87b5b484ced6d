/**
 * One deadline for a whole provider call (SDK retries included), joined with the caller's
 * signal. We keep our own timer rather than rely on how the SDK labels a timeout: the SDK
 * recognises an aborted fetch by the error's name, which is lost across realms (jest vm).
 */
export interface CallDeadline {
  signal: AbortSignal;
  timedOut(): boolean;
  callerAborted(): boolean;
  clear(): void;
}

export function startDeadline(timeoutMs: number, caller?: AbortSignal): CallDeadline {
  const controller = new AbortController();
  let fired = false;
  const timer = setTimeout(() => {
    fired = true;
    controller.abort();
  }, timeoutMs);
  const onCallerAbort = (): void => controller.abort();
  if (caller?.aborted) controller.abort();
  else caller?.addEventListener('abort', onCallerAbort, { once: true });
  return {
    signal: controller.signal,
    timedOut: () => fired,
    callerAborted: () => caller?.aborted ?? false,
    clear: () => {
      clearTimeout(timer);
      caller?.removeEventListener('abort', onCallerAbort);
    },
  };
}
