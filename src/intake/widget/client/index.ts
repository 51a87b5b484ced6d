// The npm package: `import { init } from '@userz/widget'`; the same engine and API as the script tag.
import { createUserz, type UserzApi, type UserzOptions } from './core.js';

export type { UserzApi, UserzOptions, UserzUser } from './core.js';
export type { Strings } from './strings.js';
export { DEFAULT_STRINGS } from './strings.js';

let instance: UserzApi | undefined;

/** Starts the widget once per page; later calls return the same instance. */
export function init(options: UserzOptions): UserzApi {
  instance ??= createUserz(options);
  return instance;
}
