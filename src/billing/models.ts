import { isUserzError, UserzError } from '../errors.js';
import {
  createModelClient,
  MODEL_PROVIDERS,
  probeModelKey,
  type ModelClient,
  type ModelProvider,
  type ModelRequest,
  type ModelResponse,
} from '../model/index.js';
import type { Vault } from '../security/index.js';
import {
  deleteModelSettingsRow,
  deleteSecretRow,
  getModelSettingsRow,
  getOrgBudget,
  insertLedgerEntry,
  recordAudit,
  upsertModelSettingsRow,
  type Db,
  type ModelSettingsRow,
  type Queryable,
} from '../store/index.js';
import { costOf, priceFor, withOverrides, type PriceTable } from './prices.js';

/**
 * Each org's own model (issue 19): provider, base URL (openai-compatible), agent and
 * classifier models, and the API key, which is a vault secret (kind `ai_key`) decrypted only
 * when the classifier or the broker builds the client that makes the call. The operator's
 * environment model serves orgs without settings only when USERZ_SHARED_MODEL allows it.
 */
export interface ModelSettingsView {
  /** `org`: the org's own settings; `shared`: the operator's model; `none`: reports wait for review (model_not_configured). */
  source: 'org' | 'shared' | 'none';
  provider: ModelProvider | null;
  baseUrl: string | null;
  agentModel: string | null;
  classifierModel: string | null;
  /** Whether an API key is stored; the key itself is never returned. */
  keySet: boolean;
  checkedAt: string | null;
  updatedAt: string | null;
}

export interface SharedModel {
  provider: 'openai' | 'anthropic';
  apiKey: string;
  baseUrl?: string;
  agentModel: string;
  classifierModel: string;
}

export interface ModelSettingsInput {
  provider: ModelProvider;
  /** Required for openai-compatible (https); not accepted for openai and anthropic. */
  baseUrl?: string | null;
  agentModel: string;
  classifierModel: string;
  /** A new key; absent keeps the stored one (changing models only). */
  apiKey?: string;
}

export interface ModelSettingsDeps {
  db: Db;
  vault: Vault;
  /** The operator's model, offered to orgs without settings when `sharedModel` is true. */
  shared?: SharedModel;
  sharedModel: boolean;
  /** Resolvers to tell about a change (the process's own; others see the new updated_at). */
  resolver?: { invalidate(orgId: string): void };
}

export async function getModelSettings(deps: Pick<ModelSettingsDeps, 'db' | 'shared' | 'sharedModel'>, orgId: string): Promise<ModelSettingsView> {
  const row = await getModelSettingsRow(deps.db, orgId);
  if (row) return viewOf(row);
  if (deps.sharedModel && deps.shared) {
    const s = deps.shared;
    return {
      source: 'shared',
      provider: s.provider,
      baseUrl: null,
      agentModel: s.agentModel,
      classifierModel: s.classifierModel,
      keySet: false,
      checkedAt: null,
      updatedAt: null,
    };
  }
  return { source: 'none', provider: null, baseUrl: null, agentModel: null, classifierModel: null, keySet: false, checkedAt: null, updatedAt: null };
}

function viewOf(row: ModelSettingsRow): ModelSettingsView {
  return {
    source: 'org',
    provider: row.provider as ModelProvider,
    baseUrl: row.baseUrl,
    agentModel: row.agentModel,
    classifierModel: row.classifierModel,
    keySet: row.secretId !== null,
    checkedAt: row.checkedAt?.toISOString() ?? null,
    updatedAt: row.updatedAt.toISOString(),
  };
}

/**
 * Saves the org's model settings after checking them once against the provider (a models
 * list or a model lookup, no tokens spent): 400 `model_key_rejected` when the provider
 * refuses the key, 400 `model_unknown` naming the models it does not have, 502
 * `model_endpoint_unreachable` when the endpoint cannot be reached. Only then is the key
 * sealed and stored, replacing (and deleting) the previous one, in one transaction.
 */
export async function saveModelSettings(deps: ModelSettingsDeps, orgId: string, input: ModelSettingsInput, actor: string): Promise<ModelSettingsView> {
  const baseUrl = checkBaseUrl(input.provider, input.baseUrl ?? null);
  const current = await getModelSettingsRow(deps.db, orgId);
  let apiKey = input.apiKey;
  if (apiKey === undefined) {
    if (!current?.secretId) throw new UserzError('model_key_required', 'An API key is required: the org has none stored yet');
    apiKey = await deps.vault.revealSecret(current.secretId, { actor, purpose: 'model_settings.check' });
  }
  await checkModelAccess({ provider: input.provider, apiKey, baseUrl, models: [input.agentModel, input.classifierModel] });
  const saved = await deps.db.transaction(async (tx) => {
    const secretId = input.apiKey !== undefined ? await deps.vault.storeSecret(orgId, 'ai_key', input.apiKey, tx) : current!.secretId;
    const { settings, replacedSecretId } = await upsertModelSettingsRow(tx, {
      orgId,
      provider: input.provider,
      baseUrl,
      agentModel: input.agentModel,
      classifierModel: input.classifierModel,
      secretId,
      checked: true,
    });
    if (replacedSecretId) await deleteSecretRow(tx, orgId, replacedSecretId);
    await recordAudit(tx, {
      actor,
      action: 'model_settings.save',
      orgId,
      subject: orgId,
      data: { provider: input.provider, agentModel: input.agentModel, classifierModel: input.classifierModel, keyReplaced: input.apiKey !== undefined },
    });
    return settings;
  });
  deps.resolver?.invalidate(orgId);
  return viewOf(saved);
}

/** Removes the org's settings and deletes its key; the org falls back to the shared model or to review. */
export async function deleteModelSettings(deps: ModelSettingsDeps, orgId: string, actor: string): Promise<ModelSettingsView> {
  await deps.db.transaction(async (tx) => {
    const secretId = await deleteModelSettingsRow(tx, orgId);
    if (secretId) await deleteSecretRow(tx, orgId, secretId);
    await recordAudit(tx, { actor, action: 'model_settings.delete', orgId, subject: orgId });
  });
  deps.resolver?.invalidate(orgId);
  return getModelSettings(deps, orgId);
}

function checkBaseUrl(provider: ModelProvider, baseUrl: string | null): string | null {
  if (provider !== 'openai-compatible') {
    if (baseUrl) throw new UserzError('model_settings_invalid', `baseUrl is only for openai-compatible endpoints (${provider} has its own)`);
    return null;
  }
  if (!baseUrl) throw new UserzError('model_settings_invalid', 'An openai-compatible endpoint needs its baseUrl (https://…/v1)');
  let url: URL;
  try {
    url = new URL(baseUrl);
  } catch {
    throw new UserzError('model_settings_invalid', 'baseUrl is not a URL');
  }
  if (url.protocol !== 'https:') throw new UserzError('model_settings_invalid', 'baseUrl must be https');
  if (url.username || url.password) throw new UserzError('model_settings_invalid', 'baseUrl must not carry credentials; the key goes in apiKey');
  // GET /api/v1/model-settings shows baseUrl to read keys: a key put in its query (…?api-key=) would be shown with it.
  if (url.search || url.hash) throw new UserzError('model_settings_invalid', 'baseUrl must not carry a query or fragment; the key goes in apiKey');
  return url.toString().replace(/\/$/, '');
}

/** The one check call, with its failures said plainly; provider messages (which may echo the key) are never copied. */
async function checkModelAccess(probe: { provider: ModelProvider; apiKey: string; baseUrl: string | null; models: string[] }): Promise<void> {
  let unknownModels: string[];
  try {
    ({ unknownModels } = await probeModelKey({ provider: probe.provider, apiKey: probe.apiKey, baseUrl: probe.baseUrl ?? undefined, models: probe.models }));
  } catch (e) {
    const code = isUserzError(e) ? e.code : 'model_failed';
    const status = isUserzError(e) && typeof e.details?.status === 'number' ? e.details.status : undefined;
    if (code === 'model_auth_failed') throw new UserzError('model_key_rejected', `The provider refused the API key (HTTP ${status ?? 401})`);
    if (code === 'model_unavailable' && status === undefined)
      throw new UserzError('model_endpoint_unreachable', `The model endpoint could not be reached${probe.baseUrl ? ` at ${probe.baseUrl}` : ''}`);
    if (code === 'model_timeout')
      throw new UserzError('model_endpoint_unreachable', `The model endpoint did not answer in time${probe.baseUrl ? ` at ${probe.baseUrl}` : ''}`);
    if (status === 404) throw new UserzError('model_endpoint_unreachable', 'The endpoint has no models list: is baseUrl the API root (…/v1)?');
    throw new UserzError('model_check_failed', `The provider could not check the key (${code}${status ? `, HTTP ${status}` : ''}); try again`);
  }
  if (unknownModels.length > 0) {
    throw new UserzError('model_unknown', `The provider does not offer ${unknownModels.map((m) => JSON.stringify(m)).join(', ')} to this key`, {
      details: { models: unknownModels },
    });
  }
}

// ---- per-org clients ----

/** What the pipeline calls an org's models with: clients that write a ledger row per call. */
export interface OrgModels {
  source: 'org' | 'shared' | 'fixed';
  prices: PriceTable;
  /** The classifier for one report; null only for fixed clients without one. */
  classifierFor(reportId: string): ModelClient | null;
  /** The agent for one run; null only for fixed clients without one. */
  agentFor(runId: string): ModelClient | null;
}

export interface ModelResolver {
  /** The org's models, or null when it has none (its reports wait for review, model_not_configured). */
  forOrg(orgId: string): Promise<OrgModels | null>;
}

interface Cached {
  secretId: string | null;
  updatedAt: number;
  at: number;
  classifier: ModelClient;
  agent: ModelClient;
  source: 'org' | 'shared';
}

/**
 * Per-org clients, built on first use and kept briefly (`ttlMs`, default 60 s). Each use
 * reads the org's settings row (one indexed read) and rebuilds when it changed, so a new
 * key or model applies at once in every process; a change in this process also drops the
 * entry (`invalidate`). A rebuild decrypts the key (audited `secret.decrypt`), which then
 * lives only inside the SDK client.
 */
export class OrgModelResolver implements ModelResolver {
  readonly #cache = new Map<string, Cached>();
  readonly #ttlMs: number;

  constructor(
    private readonly opts: {
      db: Db;
      vault: Vault;
      shared?: SharedModel;
      sharedModel: boolean;
      ttlMs?: number;
      now?: () => number;
      /** Builds a client (tests may pass their own). */
      create?: typeof createModelClient;
    },
  ) {
    this.#ttlMs = opts.ttlMs ?? 60_000;
  }

  invalidate(orgId: string): void {
    this.#cache.delete(orgId);
  }

  async forOrg(orgId: string): Promise<OrgModels | null> {
    const now = (this.opts.now ?? Date.now)();
    const row = await getModelSettingsRow(this.opts.db, orgId);
    const prices = withOverrides(((await getOrgBudget(this.opts.db, orgId))?.prices as PriceTable | null) ?? null);
    const cached = this.#cache.get(orgId);
    const fresh = (c: Cached | undefined): c is Cached =>
      !!c &&
      now - c.at < this.#ttlMs &&
      (row ? c.source === 'org' && c.secretId === row.secretId && c.updatedAt === row.updatedAt.getTime() : c.source === 'shared');
    let entry: Cached | null = fresh(cached) ? cached : null;
    if (!entry) {
      this.#cache.delete(orgId);
      entry = await this.build(orgId, row, now);
      if (entry) this.#cache.set(orgId, entry);
    }
    if (!entry) return null;
    const { classifier, agent, source } = entry;
    return {
      source,
      prices,
      classifierFor: (reportId) => meteredClient(classifier, { db: this.opts.db, orgId, reportId, runId: null, purpose: 'classifier', prices }),
      agentFor: (runId) => meteredClient(agent, { db: this.opts.db, orgId, runId, reportId: null, purpose: 'agent', prices }),
    };
  }

  private async build(orgId: string, row: ModelSettingsRow | null, now: number): Promise<Cached | null> {
    const create = this.opts.create ?? createModelClient;
    if (row) {
      if (!row.secretId || !(MODEL_PROVIDERS as readonly string[]).includes(row.provider)) return null;
      const apiKey = await this.opts.vault.revealSecret(row.secretId, { actor: 'pipeline', purpose: 'model_call' });
      const base = { provider: row.provider as ModelProvider, apiKey, baseUrl: row.baseUrl ?? undefined };
      return {
        source: 'org',
        secretId: row.secretId,
        updatedAt: row.updatedAt.getTime(),
        at: now,
        classifier: create({ ...base, model: row.classifierModel }),
        agent: create({ ...base, model: row.agentModel }),
      };
    }
    const shared = this.opts.sharedModel ? this.opts.shared : undefined;
    if (!shared) return null;
    const base = { provider: shared.provider, apiKey: shared.apiKey, baseUrl: shared.baseUrl };
    return {
      source: 'shared',
      secretId: null,
      updatedAt: 0,
      at: now,
      classifier: create({ ...base, model: shared.classifierModel }),
      agent: create({ ...base, model: shared.agentModel }),
    };
  }
}

/** The same clients for every org: tests, benchmarks and `userz triage explain`; still metered per org. */
export function fixedModels(db: Db, clients: { classifier?: ModelClient; agent?: ModelClient }): ModelResolver {
  return {
    async forOrg(orgId) {
      const prices = withOverrides(((await getOrgBudget(db, orgId))?.prices as PriceTable | null) ?? null);
      const { classifier, agent } = clients;
      return {
        source: 'fixed',
        prices,
        classifierFor: (reportId) => (classifier ? meteredClient(classifier, { db, orgId, reportId, runId: null, purpose: 'classifier', prices }) : null),
        agentFor: (runId) => (agent ? meteredClient(agent, { db, orgId, runId, reportId: null, purpose: 'agent', prices }) : null),
      };
    },
  };
}

/** A client that writes one ledger row per answered call: the provider's token counts and their price. */
function meteredClient(
  client: ModelClient,
  ctx: { db: Queryable; orgId: string; runId: string | null; reportId: string | null; purpose: string; prices: PriceTable },
): ModelClient {
  return {
    provider: client.provider,
    model: client.model,
    async complete(request: ModelRequest, opts?: { signal?: AbortSignal }): Promise<ModelResponse> {
      const response = await client.complete(request, opts);
      const model = request.model ?? client.model;
      await insertLedgerEntry(ctx.db, {
        orgId: ctx.orgId,
        runId: ctx.runId,
        reportId: ctx.reportId,
        purpose: ctx.purpose,
        provider: client.provider,
        model,
        inputTokens: response.usage.inputTokens,
        outputTokens: response.usage.outputTokens,
        cachedTokens: response.usage.cachedInputTokens ?? 0,
        costUsd: costOf(response.usage, priceFor(model, ctx.prices)),
      });
      return response;
    },
  };
}
