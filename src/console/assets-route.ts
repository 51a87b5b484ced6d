import { readFileSync } from 'node:fs';
import type { Router } from '../http/index.js';

/**
 * GET /console/assets/:file : the console's stylesheet and script (the CSP allows only
 * 'self' for both). Only these files, read once; any other name is a 404 like any
 * unknown path, so the parameter never reaches the file system.
 */
const ASSETS: Readonly<Record<string, string>> = {
  'console.css': 'text/css; charset=utf-8',
  'console.js': 'text/javascript; charset=utf-8',
};

export function registerConsoleAssets(router: Router): void {
  const files = new Map(Object.entries(ASSETS).map(([name, type]) => [name, { type, body: readFileSync(new URL(`./assets/${name}`, import.meta.url)) }]));
  router.add('GET', '/console/assets/:file', (_req, res, { params }) => {
    const file = files.get(params.file!);
    if (!file) {
      res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8', 'x-content-type-options': 'nosniff' }).end('Not found');
      return;
    }
    res.writeHead(200, {
      'content-type': file.type,
      'content-length': file.body.length,
      'cache-control': 'public, max-age=31536000, immutable',
      'x-content-type-options': 'nosniff',
      'cross-origin-resource-policy': 'same-origin',
    });
    res.end(file.body);
  });
  // Browsers ask for it on every new tab; there is none, and a 404 in the console is noise.
  router.add('GET', '/favicon.ico', (_req, res) => {
    res.writeHead(204, { 'cache-control': 'public, max-age=86400' }).end();
  });
}
