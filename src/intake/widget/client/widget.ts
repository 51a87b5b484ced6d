// The embeddable widget: <script src="https://userz.example/widget.js" data-userz-key="pub_…">.
// Options come from data- attributes (data-accent, data-theme, data-position,
// data-button-label, data-button="false", data-mask-selector, data-mask-all-text,
// data-release, data-user-token); the same API as the npm package is on window.Userz.
import { createUserz, type UserzOptions } from './core.js';

(() => {
  const w = window as unknown as { Userz?: unknown };
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
    button: attr('button') !== 'false',
    maskSelector: attr('mask-selector'),
    maskAllText: attr('mask-all-text') === 'true',
    release: attr('release'),
  };
  w.Userz = createUserz(options);
})();
