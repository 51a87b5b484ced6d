// The boundaries of src/ (../shared/DESIGN.md, "Layout") as rules: `npm run deps`, and npm test.
// Type-only imports count: a boundary is about what a module knows, not only what it loads.
// A broken rule prints the rule, the importing file and the imported one, and fails.

/** A top-level folder of src/, captured as $1 (src/forge/github/x.ts is in forge). */
const FOLDER = '^src/([^/]+)/';
/**
 * The shared error kernel every folder may use: the error class, the closed list of codes and the one
 * code -> status table it reads (src/http/status.ts). Kept a leaf, so the runner's bundle takes no host code with it.
 */
const KERNEL = '^src/(errors\\.ts|error-codes\\.ts|http/status\\.ts)$';
/** Each folder's closed list of error codes, which the kernel collects. */
const CODE_LISTS = '^src/[^/]+/error-codes\\.ts$';

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'An import cycle: break it by moving the shared part down or declaring a port.',
      from: { path: '^src/' },
      to: { circular: true },
    },
    {
      name: 'runner-imports-only-runner',
      severity: 'error',
      comment:
        'The runner is bundled into the sandbox: it imports only src/runner/ (plus the error kernel), Node built-ins and npm packages, so no host code ends up beside untrusted code.',
      from: { path: '^src/runner/' },
      to: { path: '^src/', pathNot: ['^src/runner/', KERNEL] },
    },
    {
      name: 'kernel-is-a-leaf',
      severity: 'error',
      comment: 'The error kernel is imported by every folder (the runner too): it and the code lists import only each other.',
      from: { path: [KERNEL, CODE_LISTS] },
      to: { path: '^src/', pathNot: [KERNEL, CODE_LISTS] },
    },
    {
      name: 'guardrail-no-store-or-forge',
      severity: 'error',
      comment: 'The guardrail judges a change set by itself: it reads neither the store nor a forge.',
      from: { path: '^src/guardrail/' },
      to: { path: '^src/(store|forge)/' },
    },
    {
      name: 'intake-no-model-forge-sandbox',
      severity: 'error',
      comment: 'Intake verifies, limits, stores and acknowledges: it calls no model, forge or sandbox.',
      from: { path: '^src/intake/' },
      to: { path: '^src/(model|forge|sandbox)/' },
    },
    {
      name: 'store-no-workflow',
      severity: 'error',
      comment: 'The store is storage: it imports no workflow (pipeline, intake, forge, broker, triage).',
      from: { path: '^src/store/' },
      to: { path: '^src/(pipeline|intake|forge|broker|triage)/' },
    },
    {
      name: 'enter-folders-through-index',
      severity: 'error',
      comment: "Another folder's files are reached only through its index.ts, its public face.",
      from: { path: FOLDER },
      to: { path: '^src/[^/]+/', pathNot: ['^src/$1/', '^src/[^/]+/index\\.ts$'] },
    },
    {
      name: 'root-enters-folders-through-index',
      severity: 'error',
      comment: 'Files at the top of src/ (main.ts) reach a folder only through its index.ts; the error kernel reads the code lists and the status table.',
      from: { path: '^src/[^/]+\\.ts$', pathNot: KERNEL },
      to: { path: '^src/[^/]+/', pathNot: '^src/[^/]+/index\\.ts$' },
    },
    {
      name: 'not-to-unresolvable',
      severity: 'error',
      comment: 'An import that does not resolve would escape every rule above.',
      from: { path: '^src/' },
      to: { couldNotResolve: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '\\.d\\.ts$' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    // Imports name the compiled .js file (nodenext); dependency-cruiser finds the .ts beside it.
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
      mainFields: ['module', 'main', 'types', 'typings'],
    },
    reporterOptions: { text: { highlightFocused: true } },
  },
};
