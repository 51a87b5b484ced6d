#!/usr/bin/env node
// The `userz` command. In a production image only the compiled lib/ exists; in a checkout
// the TypeScript sources run directly through tsx, so there is no build step to forget.
import { existsSync } from 'node:fs';

const src = new URL('../src/cli/main.ts', import.meta.url);
if (existsSync(src)) {
  const { register } = await import('tsx/esm/api');
  register();
  await import(src.href);
} else {
  await import(new URL('../lib/cli/main.js', import.meta.url).href);
}
