import { deleteModelSettings, getModelSettings, getUsage, saveModelSettings, setCaps, type ModelSettingsView, type Usage } from '../../billing/index.js';
import { UserzError } from '../../errors.js';
import type { Router } from '../../http/index.js';
import { MODEL_PROVIDERS, type ModelProvider } from '../../model/index.js';
import { can, requirePermission } from '../../tenant/index.js';
import type { ConsoleSession } from '../context.js';
import { time } from '../format.js';
import { html, type Html } from '../html.js';
import { redirect } from '../layout.js';
import { addMemberAction } from '../page-route.js';
import { csrfField, type AdminPagesDeps } from './admin-deps.js';
import type { SettingsSection } from './settings.js';

const usd = (n: number | null): string => (n === null ? 'no cost cap' : `$${n.toFixed(n < 1 && n > 0 ? 4 : 2)}`);
const count = (n: number): string => n.toLocaleString('en');
const tokenCap = (n: number | null): string => (n === null ? 'no token cap' : `${count(n)} tokens`);

/** A cap field: empty is null (back to the plan's or the server's default). */
function capOf(form: URLSearchParams, name: string, integer: boolean): number | null {
  const raw = (form.get(name) ?? '').trim();
  if (raw === '') return null;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < 0 || (integer && !Number.isInteger(n)))
    throw new UserzError('caps_invalid', `${name} must be ${integer ? 'a whole number' : 'a number'} ≥ 0, or empty`);
  return n;
}

/**
 * The model and the money on the settings page: the org's model settings (provider, base URL,
 * models; the key write-only, never shown), month-to-date usage and the caps, saved through
 * the billing module's functions (the same as /api/v1/model-settings, /caps and /usage).
 */
export function registerBillingSettings(router: Router, deps: AdminPagesDeps & { billing: NonNullable<AdminPagesDeps['billing']> }): SettingsSection[] {
  const { auth, billing } = deps;
  const modelDeps = { db: deps.db, vault: deps.vault, shared: billing.shared, sharedModel: billing.sharedModel, resolver: billing.resolver };

  addMemberAction(router, auth, '/settings/model', async ({ res, principal, form }) => {
    requirePermission(principal, 'admin');
    const provider = form.get('provider') as ModelProvider;
    if (!MODEL_PROVIDERS.includes(provider)) throw new UserzError('model_settings_invalid', `provider must be one of ${MODEL_PROVIDERS.join(', ')}`);
    const apiKey = (form.get('apiKey') ?? '').trim();
    await saveModelSettings(
      modelDeps,
      principal.orgId,
      {
        provider,
        baseUrl: (form.get('baseUrl') ?? '').trim() || null,
        agentModel: (form.get('agentModel') ?? '').trim(),
        classifierModel: (form.get('classifierModel') ?? '').trim(),
        apiKey: apiKey === '' ? undefined : apiKey,
      },
      principal.actor,
    );
    redirect(res, '/settings?saved=model#model-h');
  });

  addMemberAction(router, auth, '/settings/model/delete', async ({ res, principal }) => {
    requirePermission(principal, 'admin');
    await deleteModelSettings(modelDeps, principal.orgId, principal.actor);
    redirect(res, '/settings?saved=model-deleted#model-h');
  });

  addMemberAction(router, auth, '/settings/caps', async ({ res, principal, form }) => {
    requirePermission(principal, 'admin');
    await setCaps(
      deps.db,
      principal.orgId,
      {
        monthlyCostCapUsd: capOf(form, 'monthlyCostCapUsd', false),
        monthlyTokenCap: capOf(form, 'monthlyTokenCap', true),
        runCostCapUsd: capOf(form, 'runCostCapUsd', false),
        runTokenCap: capOf(form, 'runTokenCap', true),
      },
      principal.actor,
      billing.runCaps,
    );
    redirect(res, '/settings?saved=caps#usage-h');
  });

  return [
    {
      id: 'model',
      async render({ session, principal }) {
        requirePermission(principal, 'read');
        return modelSection(session, await getModelSettings(modelDeps, principal.orgId), can(principal, 'admin'));
      },
    },
    {
      id: 'usage',
      async render({ session, principal }) {
        requirePermission(principal, 'read');
        return usageSection(session, await getUsage(deps.db, principal.orgId, billing.runCaps), can(principal, 'admin'));
      },
    },
  ];
}

function modelSection(session: ConsoleSession, m: ModelSettingsView, admin: boolean): Html {
  const source =
    m.source === 'org'
      ? 'This organization’s own model.'
      : m.source === 'shared'
        ? 'The server’s shared model (no settings of this organization yet).'
        : 'No model: reports wait for review with reason model_not_configured until one is set.';
  return html`<section aria-labelledby="model-h">
    <h2 id="model-h">Model</h2>
    <p>${source}</p>
    ${
      m.source !== 'none'
        ? html`<dl class="facts">
            <dt>Provider</dt>
            <dd>${m.provider}</dd>
            ${
              m.baseUrl
                ? html`<dt>Base URL</dt>
                    <dd class="mono">${m.baseUrl}</dd>`
                : ''
            }
            <dt>Agent model</dt>
            <dd class="mono">${m.agentModel}</dd>
            <dt>Classifier model</dt>
            <dd class="mono">${m.classifierModel}</dd>
            ${
              m.source === 'org'
                ? html`<dt>API key</dt>
                    <dd>${m.keySet ? 'stored (never shown)' : 'none'}${m.checkedAt ? html`, checked ${time(new Date(m.checkedAt))}` : ''}</dd>`
                : ''
            }
          </dl>`
        : ''
    }
    ${admin ? modelForm(session, m) : ''}
  </section>`;
}

function modelForm(session: ConsoleSession, m: ModelSettingsView): Html {
  const own = m.source === 'org';
  return html`<form method="post" action="/settings/model" autocomplete="off">
      ${csrfField(session)}
      <h3>${own ? 'Change the model' : 'Use your own model'}</h3>
      <label for="model-provider">Provider</label>
      <select id="model-provider" name="provider" required>
        ${MODEL_PROVIDERS.map((p) => html`<option value="${p}" ${own && m.provider === p ? html`selected` : ''}>${p}</option>`)}
      </select>
      <label for="model-base">Base URL (openai-compatible only)</label>
      <input type="url" id="model-base" name="baseUrl" value="${own ? (m.baseUrl ?? '') : ''}" placeholder="https://models.example.com/v1" size="40" />
      <label for="model-agent">Agent model</label>
      <input type="text" id="model-agent" name="agentModel" required maxlength="200" value="${own ? (m.agentModel ?? '') : ''}" />
      <label for="model-classifier">Classifier model</label>
      <input type="text" id="model-classifier" name="classifierModel" required maxlength="200" value="${own ? (m.classifierModel ?? '') : ''}" />
      <label for="model-key">API key</label>
      <input type="password" id="model-key" name="apiKey" ${own && m.keySet ? '' : html`required`} maxlength="1000" aria-describedby="model-key-help" />
      <p id="model-key-help" class="muted">
        Checked once against the provider, then stored encrypted; it is never shown again.${own && m.keySet ? ' Leave empty to keep the stored key.' : ''}
      </p>
      <button type="submit" class="primary">Check and save</button>
    </form>
    ${
      own
        ? html`<form method="post" action="/settings/model/delete">
            ${csrfField(session)}
            <button type="submit" class="danger">Remove the model settings and delete the key</button>
          </form>`
        : ''
    }`;
}

function usageSection(session: ConsoleSession, u: Usage, admin: boolean): Html {
  const tokens = u.spent.inputTokens + u.spent.outputTokens;
  return html`<section aria-labelledby="usage-h">
    <h2 id="usage-h">Usage and caps</h2>
    <dl class="facts">
      <dt>Month (UTC)</dt>
      <dd>${u.month}</dd>
      <dt>Spent so far</dt>
      <dd>${usd(u.spent.costUsd)} · ${count(tokens)} tokens (${count(u.spent.cachedTokens)} cached) · ${count(u.spent.calls)} model calls</dd>
      <dt>Held by running runs</dt>
      <dd>${usd(u.holds.costUsd)} · ${count(u.holds.tokens)} tokens (${u.holds.count} runs)</dd>
      <dt>Plan</dt>
      <dd>${u.caps.plan ?? 'none'}</dd>
      <dt>Monthly caps</dt>
      <dd>${usd(u.caps.monthlyCostCapUsd)} · ${tokenCap(u.caps.monthlyTokenCap)}</dd>
      <dt>Left this month</dt>
      <dd>
        ${u.remaining.costUsd === null ? 'no cost cap' : usd(u.remaining.costUsd)} ·
        ${u.remaining.tokens === null ? 'no token cap' : `${count(u.remaining.tokens)} tokens`}
      </dd>
      <dt>Per run</dt>
      <dd>${usd(u.caps.runCostCapUsd)} · ${tokenCap(u.caps.runTokenCap)}</dd>
    </dl>
    ${
      u.spent.byPurpose.length
        ? html`<table>
            <caption class="muted">
              This month by purpose
            </caption>
            <thead>
              <tr>
                <th scope="col">Purpose</th>
                <th scope="col">Calls</th>
                <th scope="col">Tokens</th>
                <th scope="col">Cost</th>
              </tr>
            </thead>
            <tbody>
              ${u.spent.byPurpose.map(
                (p) =>
                  html`<tr>
                    <td>${p.purpose}</td>
                    <td>${count(p.calls)}</td>
                    <td>${count(p.inputTokens + p.outputTokens)}</td>
                    <td>${usd(p.costUsd)}</td>
                  </tr>`,
              )}
            </tbody>
          </table>`
        : ''
    }
    ${admin ? capsForm(session, u) : ''}
  </section>`;
}

function capsForm(session: ConsoleSession, u: Usage): Html {
  const field = (name: string, label: string, value: number | null, step: string) =>
    html`<label for="cap-${name}">${label}</label> <input type="number" id="cap-${name}" name="${name}" min="0" step="${step}" value="${value ?? ''}" />`;
  return html`<form method="post" action="/settings/caps">
    ${csrfField(session)}
    <h3>Caps</h3>
    <p class="muted">
      Clear a field to go back to the plan's cap (or none) and the server's run budget. A run that does not fit waits until the month rolls over or a cap is
      raised.
    </p>
    ${field('monthlyCostCapUsd', 'Monthly cost cap (USD)', u.caps.monthlyCostCapUsd, '0.01')}
    ${field('monthlyTokenCap', 'Monthly token cap', u.caps.monthlyTokenCap, '1')}
    ${field('runCostCapUsd', 'Per-run cost cap (USD)', u.caps.runCostCapUsd, '0.01')} ${field('runTokenCap', 'Per-run token cap', u.caps.runTokenCap, '1')}
    <p><button type="submit">Save caps</button></p>
  </form>`;
}
