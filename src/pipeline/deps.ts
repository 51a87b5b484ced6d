import type { Logger } from 'pino';
import type { ModelResolver, PriceTable } from '../billing/index.js';
import type { RunBudget } from '../broker/index.js';
import type { Forge } from '../forge/index.js';
import type { ModelClient } from '../model/index.js';
import type { SandboxDriver } from '../sandbox/index.js';
import type { Vault } from '../security/index.js';
import type { BlobStore, Db, Repo, ReportOutcome, ReviewOutcome } from '../store/index.js';
import type { SetupEgress } from './egress.js';
import type { WebhookDeliveryOptions } from '../webhooks/index.js';

/**
 * The port the pipeline calls when a run ends: tell the reporter, where they reported.
 * Intake implements it (intake/notify.ts); src/main.ts connects the two.
 */
export interface Notifier {
  notifyReporter(report: { id: string }, outcome: ReportOutcome): Promise<void>;
  /** After the draft opened: it was merged or closed (issue 18). Once per report and outcome; no report text. */
  notifyReviewOutcome?(report: { id: string }, outcome: ReviewOutcome, runId: string): Promise<void>;
}

/** What the pipeline needs; src/main.ts builds it once (tests build it with doubles at the edges). */
export interface PipelineDeps {
  db: Db;
  blobs: BlobStore;
  vault: Vault;
  log: Logger;
  publicUrl: string;
  /**
   * Each org's models (billing/models.ts): its own key, or the operator's shared model when
   * USERZ_SHARED_MODEL allows; an org with neither gets needs_review `model_not_configured`.
   */
  models?: ModelResolver;
  /** Fixed clients for every org instead of `models` (tests, benchmarks); still metered in the ledger. */
  classifier?: ModelClient;
  /** Fixed agent client for every org (tests); with fixed clients, absent → runs end errored `no_model`. */
  agent?: ModelClient;
  /** How long a run's spend hold counts without its job holding a lease (default 15 min). */
  holdTtlMs?: number;
  /** Set by the run job for its agent phase (pipeline/models.ts): the org's price table. */
  modelPrices?: PriceTable;
  /** Absent when USERZ_SANDBOX=off: runs end errored with `sandbox_disabled`. */
  sandbox?: SandboxDriver;
  forgeFor(repo: Repo): Forge;
  notifier: Notifier;
  budget: RunBudget;
  /** How long a new batch waits for similar reports before its run starts. */
  batchDelayMs: number;
  /** How long a batch accepts similar reports (triage/batch.ts window). */
  batchWindowMs?: number;
  /** Command that starts the runner inside the sandbox image. */
  runnerCommand?: string[];
  /** Where run events are counted (src/metrics, wired in main.ts); absent: not counted. */
  metrics?: PipelineMetrics;
  /** Setup's egress path to the operator's allowlisted hosts (egress.ts, wired in main.ts); absent: setup has no network. */
  setupEgress?: SetupEgress;

  /** How `webhook` jobs deliver (clock, resolver; tests allow loopback receivers); absent: the defaults. */
  webhooks?: WebhookDeliveryOptions;
}

/** The pipeline's metrics port: labels are run states, rule ids and purposes, never report content. */
export interface PipelineMetrics {
  runEnded(outcome: string, seconds?: number): void;
  sandboxStarted(seconds: number): void;
  guardrailRejected(ruleId: string): void;
  modelUsage(u: { purpose: string; inputTokens: number; outputTokens: number; costUsd?: number }): void;
}

export const DEFAULT_RUNNER_COMMAND = ['node', '/opt/userz/runner.mjs', '/work'];
