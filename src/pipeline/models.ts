import { fixedModels, runAllowance, type OrgModels } from '../billing/index.js';
import { UserzError } from '../errors.js';
import type { PipelineDeps } from './deps.js';

/**
 * The org's models for this call: fixed clients when the deps carry them (tests and
 * benchmarks), otherwise the per-org resolver (the org's own key, or the operator's shared
 * model when allowed). Null: the org has no model.
 */
export async function modelsFor(deps: Pick<PipelineDeps, 'db' | 'classifier' | 'agent' | 'models'>, orgId: string): Promise<OrgModels | null> {
  if (deps.classifier || deps.agent) return fixedModels(deps.db, { classifier: deps.classifier, agent: deps.agent }).forOrg(orgId);
  return deps.models ? deps.models.forOrg(orgId) : null;
}

/**
 * The deps an agent phase runs with: the org's agent (each call a ledger row), its prices and the run
 * budget under the run's hold, which is what the hold still allows after earlier
 * attempts' spend. Throws `no_model` when the org has no agent model.
 */
export async function withRunModel(deps: PipelineDeps, run: { id: string; orgId: string }): Promise<PipelineDeps> {
  const models = await modelsFor(deps, run.orgId);
  const agent = models?.agentFor(run.id);
  if (!models || !agent) throw new UserzError('no_model', 'No model provider is configured for the agent');
  const allowance = await runAllowance(deps.db, run);
  const budget = allowance ? { ...deps.budget, maxCostUsd: allowance.costUsd, maxTotalTokens: allowance.tokens } : deps.budget;
  return { ...deps, agent, budget, modelPrices: models.prices };
}
