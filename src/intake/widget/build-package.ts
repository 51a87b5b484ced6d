import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const CLIENT_DIR = join(dirname(fileURLToPath(import.meta.url)), 'client');
const ENTRIES = ['index.ts', 'react.ts'].map((f) => join(CLIENT_DIR, f));

/** The npm package's manifest: ESM with types, `init()` at the root and the React wrapper at `/react`. */
export function widgetPackageManifest(version: string): Record<string, unknown> {
  return {
    name: '@userz/widget',
    version,
    description: 'The Userz feedback widget: init() and a React hook/button, the same engine as the script tag.',
    type: 'module',
    sideEffects: false,
    main: './index.js',
    types: './types/index.d.ts',
    exports: {
      '.': { types: './types/index.d.ts', import: './index.js' },
      './react': { types: './types/react.d.ts', import: './react.js' },
    },
    peerDependencies: { react: '>=17' },
    peerDependenciesMeta: { react: { optional: true } },
    license: 'UNLICENSED',
  };
}

/**
 * Builds the npm package into `outdir` from the same client sources as the script tag:
 * esbuild ESM with code splitting (index.js and react.js share one engine chunk, React
 * stays external) and TypeScript declarations under types/. Dev dependencies only.
 */
export async function buildWidgetPackage(outdir: string, version: string): Promise<string[]> {
  const esbuild = await import('esbuild');
  mkdirSync(outdir, { recursive: true });
  const result = await esbuild.build({
    entryPoints: ENTRIES,
    bundle: true,
    splitting: true,
    format: 'esm',
    target: ['es2019'],
    platform: 'browser',
    minify: true,
    legalComments: 'none',
    external: ['react'],
    outdir,
    chunkNames: 'chunks/[name]-[hash]',
    write: true,
    metafile: true,
  });
  const ts = (await import('typescript')).default;
  const program = ts.createProgram(ENTRIES, {
    declaration: true,
    emitDeclarationOnly: true,
    outDir: join(outdir, 'types'),
    rootDir: CLIENT_DIR,
    module: ts.ModuleKind.ESNext,
    moduleResolution: ts.ModuleResolutionKind.Bundler,
    target: ts.ScriptTarget.ES2020,
    lib: ['lib.es2022.d.ts', 'lib.dom.d.ts'],
    strict: true,
    skipLibCheck: true,
    types: [],
  });
  const emitted = program.emit();
  const errors = [...ts.getPreEmitDiagnostics(program), ...emitted.diagnostics].filter((d) => d.category === ts.DiagnosticCategory.Error);
  if (errors.length > 0)
    throw new Error(
      `widget package types: ${ts.formatDiagnostics(errors, { getCanonicalFileName: (f) => f, getCurrentDirectory: () => CLIENT_DIR, getNewLine: () => '\n' })}`,
    );
  writeFileSync(join(outdir, 'package.json'), `${JSON.stringify(widgetPackageManifest(version), null, 2)}\n`);
  return Object.keys(result.metafile.outputs);
}
