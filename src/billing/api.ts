import { z } from 'zod';
import type { ApiRoutes } from '../api/index.js';
import { MODEL_PROVIDERS } from '../model/index.js';
import type { Vault } from '../security/index.js';
import { UserzError } from '../errors.js';
import { findRun, getHold, type Db } from '../store/index.js';
import { deleteModelSettings, getModelSettings, saveModelSettings, type ModelSettingsView, type SharedModel } from './models.js';
import { PLAN_NAMES } from './plans.js';
import { getRunSpend, getUsage, setCaps, type EffectiveCaps, type RunCaps, type Usage } from './spend.js';

/**
 * The `/api/v1` spend routes: model settings (admin to write; the key is write-only), caps
 * (admin) and usage (read). The zod schemas below parse the requests and describe the
 * answers in the OpenAPI document.
 */
export interface BillingRouteDeps {
  db: Db;
  vault: Vault;
  shared?: SharedModel;
  sharedModel: boolean;
  /** The per-run caps of an org without explicit ones (the process's run budget). */
  runCaps: RunCaps;
}

const time = z.iso.datetime();
const model = z.string().trim().min(1).max(200);

export const ModelSettingsBody = z
  .object({
    provider: z.enum(MODEL_PROVIDERS).describe('openai, anthropic, or openai-compatible (then baseUrl is required)'),
    baseUrl: z.string().max(2000).nullable().optional().describe('https://…/v1 of an OpenAI-compatible endpoint; only with openai-compatible'),
    agentModel: model.describe('The model the coding agent runs on'),
    classifierModel: model.describe('The model triage classifies reports with'),
    apiKey: z
      .string()
      .trim()
      .min(8)
      .max(1000)
      .optional()
      .describe('The provider API key; stored encrypted, never returned. Omit to keep the stored key (changing models only)'),
  })
  .strict();

export const ModelSettingsAnswer = z.object({
  source: z.enum(['org', 'shared', 'none']).describe("org: the org's own settings; shared: the operator's model; none: reports wait for review"),
  provider: z.enum(MODEL_PROVIDERS).nullable(),
  baseUrl: z.string().nullable(),
  agentModel: z.string().nullable(),
  classifierModel: z.string().nullable(),
  keySet: z.boolean().describe('Whether an API key is stored (the key itself is never returned)'),
  checkedAt: time.nullable().describe('When the key last passed its check against the provider'),
  updatedAt: time.nullable(),
});

const usd = z.number().min(0).max(1_000_000_000);
const tokens = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);
const Price = z.object({ inputPerMTok: usd, outputPerMTok: usd, cachedInputPerMTok: usd.optional() }).strict().describe('USD per million tokens');

export const CapsBody = z
  .object({
    monthlyCostCapUsd: usd.nullable().optional().describe("Per calendar month (UTC); null: back to the plan's"),
    monthlyTokenCap: tokens.nullable().optional(),
    runCostCapUsd: usd.nullable().optional().describe('Per run; each run holds this much of the month while it runs'),
    runTokenCap: tokens.nullable().optional(),
    prices: z.record(model, Price).nullable().optional().describe("Per-model price overrides on top of the server's table; null clears them"),
  })
  .strict();

export const CapsAnswer = z.object({
  plan: z.enum(PLAN_NAMES).nullable(),
  monthlyCostCapUsd: z.number().nullable().describe('null: no monthly cap'),
  monthlyTokenCap: z.number().nullable(),
  runCostCapUsd: z.number(),
  runTokenCap: z.number(),
});

const Totals = z.object({ calls: z.number(), inputTokens: z.number(), outputTokens: z.number(), cachedTokens: z.number(), costUsd: z.number() });

export const UsageAnswer = z.object({
  month: z.string().describe('YYYY-MM (UTC)'),
  spent: Totals.extend({ byPurpose: z.array(Totals.extend({ purpose: z.string() })) }),
  holds: z.object({ count: z.number(), costUsd: z.number(), tokens: z.number() }).describe('What running runs still reserve beyond their spend so far'),
  caps: CapsAnswer,
  remaining: z.object({ costUsd: z.number().nullable(), tokens: z.number().nullable() }),
  prices: z.record(z.string(), Price).nullable(),
});

export const RunUsageAnswer = Totals.extend({
  runId: z.string(),
  hold: z
    .object({ costUsd: z.number(), tokens: z.number(), settled: z.boolean() })
    .nullable()
    .describe("The run's hold on its org's month: its per-run caps while it runs; null before it started"),
});

const settingsView = (v: ModelSettingsView): z.input<typeof ModelSettingsAnswer> => v;
const capsView = (c: EffectiveCaps): z.input<typeof CapsAnswer> => c;
const usageView = (u: Usage): z.input<typeof UsageAnswer> => u;

export function registerBillingRoutes(api: ApiRoutes, deps: BillingRouteDeps): void {
  api
    .add({
      method: 'GET',
      path: '/api/v1/model-settings',
      operationId: 'getModelSettings',
      tag: 'Spend',
      summary: "The org's model provider and models; says whether a key is set, never the key",
      permission: 'read',
      responses: { 200: ModelSettingsAnswer },
    })
    .handle(async ({ principal }) => ({ status: 200, body: settingsView(await getModelSettings(deps, principal.orgId)) }));

  api
    .add({
      method: 'PUT',
      path: '/api/v1/model-settings',
      operationId: 'saveModelSettings',
      tag: 'Spend',
      summary: 'Set the provider, models and key; the key is checked once with the provider before it is stored',
      permission: 'admin',
      body: { schema: ModelSettingsBody, limit: 16 * 1024 },
      responses: { 200: ModelSettingsAnswer },
      errors: ['model_key_rejected', 'model_unknown', 'model_endpoint_unreachable', 'model_check_failed', 'model_key_required', 'model_settings_invalid'],
    })
    .handle(async ({ principal, body }) => ({
      status: 200,
      body: settingsView(
        await saveModelSettings(
          deps,
          principal.orgId,
          { provider: body.provider, baseUrl: body.baseUrl ?? null, agentModel: body.agentModel, classifierModel: body.classifierModel, apiKey: body.apiKey },
          principal.actor,
        ),
      ),
    }));

  api
    .add({
      method: 'DELETE',
      path: '/api/v1/model-settings',
      operationId: 'deleteModelSettings',
      tag: 'Spend',
      summary: "Remove the org's model settings and delete its key",
      permission: 'admin',
      responses: { 200: ModelSettingsAnswer },
    })
    .handle(async ({ principal }) => ({ status: 200, body: settingsView(await deleteModelSettings(deps, principal.orgId, principal.actor)) }));

  api
    .add({
      method: 'PUT',
      path: '/api/v1/caps',
      operationId: 'setCaps',
      tag: 'Spend',
      summary: "Set the org's monthly and per-run caps and price overrides; fields left out keep their value",
      permission: 'admin',
      body: { schema: CapsBody },
      responses: { 200: CapsAnswer },
      errors: ['caps_invalid'],
    })
    .handle(async ({ principal, body }) => ({ status: 200, body: capsView(await setCaps(deps.db, principal.orgId, body, principal.actor, deps.runCaps)) }));

  api
    .add({
      method: 'GET',
      path: '/api/v1/usage',
      operationId: 'getUsage',
      tag: 'Spend',
      summary: 'Month-to-date spend (UTC calendar month), live holds, the caps and what is left',
      permission: 'read',
      responses: { 200: UsageAnswer },
    })
    .handle(async ({ principal }) => ({ status: 200, body: usageView(await getUsage(deps.db, principal.orgId, deps.runCaps)) }));

  api
    .add({
      method: 'GET',
      path: '/api/v1/runs/:id/usage',
      operationId: 'getRunUsage',
      tag: 'Spend',
      summary: "One run's model calls, tokens and cost (from the ledger) and its hold",
      permission: 'read',
      responses: { 200: RunUsageAnswer },
      errors: ['run_not_found'],
    })
    .handle(async ({ principal, params }) => {
      const run = await findRun(deps.db, params.id!);
      if (!run || run.orgId !== principal.orgId) throw new UserzError('run_not_found', 'No such run');
      const hold = await getHold(deps.db, run.id);
      return {
        status: 200,
        body: {
          runId: run.id,
          ...(await getRunSpend(deps.db, run.orgId, run.id)),
          hold: hold ? { costUsd: hold.costUsd, tokens: hold.tokens, settled: hold.settledAt !== null } : null,
        },
      };
    });
}
