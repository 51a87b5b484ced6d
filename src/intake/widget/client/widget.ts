// The embeddable widget: <script src="https://userz.example/widget.js" data-userz-key="pub_…">.
// Options come from data- attributes (data-accent, data-theme, data-position,
// data-button-label, data-button="false", data-mask-selector, data-mask-all-text,
// data-release, data-user-token) and, for what attributes cannot say (strings, network
// opt-ins, context), from a `window.UserzSettings` object set before the script; the same
// API as the npm package is on window.Userz.
import { createUserz, type UserzOptions } from './core.js';

(() => {
  const w = window as unknown as { Userz?: unknown; UserzSettings?: Partial<UserzOptions> };
  if (w.Userz) return;
  const script = document.currentScript as HTMLScriptElement | null;
  const attr = (name: string) => script?.getAttribute(`data-${name}`) ?? undefined;
  const options: UserzOptions = {
    key: attr('userz-key') ?? '',
    endpoint: script ? new URL(script.src).origin : location.origin,
    userToken: attr('user-token') ?? null,
    accent: attr('accent'),
    theme: attr('theme') as UserzOptions['theme'],
    position: attr('position') as UserzOptions['position'],
    buttonLabel: attr('button-label'),
    button: attr('button') === undefined ? undefined : attr('button') !== 'false',
    maskSelector: attr('mask-selector'),
    maskAllText: attr('mask-all-text') === undefined ? undefined : attr('mask-all-text') === 'true',
    release: attr('release'),
  };
  const settings = w.UserzSettings && typeof w.UserzSettings === 'object' ? w.UserzSettings : {};
  const defined = Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined && v !== null));
  w.Userz = createUserz({ ...settings, ...defined, key: options.key || settings.key || '' } as UserzOptions);
})();
