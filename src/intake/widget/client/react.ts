// React wrapper for the npm package (`@userz/widget/react`): a hook that starts the widget
// once and a button that opens its panel. Same engine and API as `init()`; React is a peer.
import { createElement, useEffect, useState, type ButtonHTMLAttributes, type ReactElement } from 'react';
import { init, type UserzApi, type UserzOptions, type UserzUser } from './index.js';

export type { UserzApi, UserzOptions, UserzUser } from './index.js';

/** Starts the widget on mount (once per page) and keeps the signed-in user and context current. */
export function useUserz(options: UserzOptions, user?: UserzUser | null, context?: Record<string, unknown>): UserzApi | undefined {
  const [api, setApi] = useState<UserzApi>();
  useEffect(() => {
    setApi(init(options));
    // The widget is started once; later option changes are not applied (theme, key).
  }, []);
  const userKey = JSON.stringify(user ?? null);
  useEffect(() => {
    if (api && user !== undefined) api.identify(user);
  }, [api, userKey]);
  const contextKey = JSON.stringify(context ?? null);
  useEffect(() => {
    if (api && context) api.setContext(context);
  }, [api, contextKey]);
  return api;
}

export interface UserzButtonProps extends ButtonHTMLAttributes<HTMLButtonElement> {
  options: UserzOptions;
  user?: UserzUser | null;
  context?: Record<string, unknown>;
}

/** The host's own button: renders a `<button>` that opens the panel (pass `button: false` in options to hide the floating one). */
export function UserzButton({ options, user, context, children, onClick, ...rest }: UserzButtonProps): ReactElement {
  const api = useUserz(options, user, context);
  return createElement(
    'button',
    {
      type: 'button',
      ...rest,
      onClick: (e: Parameters<NonNullable<typeof onClick>>[0]) => {
        onClick?.(e);
        api?.open();
      },
    },
    children ?? 'Report a problem',
  );
}
