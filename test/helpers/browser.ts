import { chromium, type Browser } from 'playwright-core';

/**
 * Debian's Chromium, headless, as every browser test launches it (one browser per test file).
 * The background-networking flags matter here: without them Chromium keeps calling out to
 * Google's hosts, and this machine's closed network refuses those connections many at a time.
 */
export function launchChromium(extraArgs: readonly string[] = []): Promise<Browser> {
  return chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      ...extraArgs,
    ],
  });
}
