/**
 * The forge port (Renovate's platform seam): the pipeline reaches GitHub and GitLab only
 * through these types, obtained from `createForge` in ./index.ts.
 */
import type { Readable } from 'node:stream';
import type { ChangeSet } from '../guardrail/index.js';

export type ForgeName = 'github' | 'gitlab';

/** The fields of a connected repository (the store's `Repo`) that a forge needs. */
export interface RepoRecord {
  id: string;
  forge: ForgeName;
  /** GitHub: numeric repository id; GitLab: numeric project id. */
  externalId: string;
  /** `owner/name` (GitHub) or `group/sub/project` (GitLab). */
  fullName: string;
  /**
   * null or '' = github.com / gitlab.com. GitHub Enterprise Server: the API base
   * (`https://ghe.example.com/api/v3`). Self-managed GitLab: the instance root
   * (`https://gitlab.example.com`, without `/api/v4`).
   */
  baseUrl: string | null;
  installationId: number | null;
  defaultBranch: string;
}

/** What the PR/MR says, from trusted fields only; the forge renders it (see pr-body.ts). */
export interface PrDescription {
  title: string;
  /** What changed and why, in the agent's words, never report text; scrubbed and escaped before it reaches the forge. */
  summary: string;
  /** Link to the report in the Userz console (http/https only). */
  reportUrl?: string;
  /** What the guardrail checked before delivery. */
  guardrail: { checkedPaths: number; ruleCount: number };
  /**
   * What the repository's own checks said on the change (commands from the base commit's
   * .userz.yml; no output, which the agent's code wrote), and whether a test the agent
   * added failed on the base tree and passes with the change. Absent: not recorded.
   */
  checks?: {
    status: 'passed' | 'failed' | 'not_configured' | 'errored';
    commands: Array<{ command: string; exitCode: number | null }>;
    reproduced: boolean;
  };
}

export interface DeliveryInput {
  runId: string;
  /** Delivered exactly as given; its `baseCommit` is the commit's parent. */
  changeSet: ChangeSet;
  description: PrDescription;
}

export interface DraftDelivery {
  url: string;
  /** PR number (GitHub) or MR iid (GitLab). */
  number: number;
  branch: string;
  /** false when a retried delivery found the PR/MR an earlier attempt opened. */
  created: boolean;
}

export interface RepositoryArchive {
  /** The commit the archive was taken from: the default branch head, or the commit asked for. */
  baseCommit: string;
  /**
   * Uncompressed tar, every entry under the forge's one top folder (load it with one leading
   * component stripped), unsafe names and non-content entries already dropped.
   */
  tar: Readable;
}

/** One more commit on a draft's branch (a follow-up from review). */
export interface BranchCommitInput {
  branch: string;
  /** Its `baseCommit` is the branch head the change was made on, and the new commit's parent. */
  changeSet: ChangeSet;
  message: string;
}

/** A branch's head commit: its id and its full message (trailers included). */
export interface BranchHead {
  sha: string;
  message: string;
}

export interface ForgeSession {
  /**
   * The default branch head's tree, or exactly `at.commit`'s (a follow-up continues the
   * branch head it read with branchHead, so the branch moving in between changes nothing).
   */
  fetchArchive(at?: { commit: string }): Promise<RepositoryArchive>;
  /** File content at `ref`, or null when the file does not exist. */
  readFile(path: string, ref: string): Promise<string | null>;
  deliverDraft(input: DeliveryInput): Promise<DraftDelivery>;
  /**
   * Pushes one commit onto `branch` whose parent is `changeSet.baseCommit`; refused with
   * `forge_conflict` when the branch head has moved since (never a force push). Returns its id.
   */
  pushCommit(input: BranchCommitInput): Promise<string>;
  /**
   * `branch`'s head commit, or null when there is no such branch. A retried follow-up reads
   * it to find the commit an earlier attempt pushed but did not record (its trailers).
   */
  branchHead(branch: string): Promise<BranchHead | null>;
  /** GitHub: revokes the run's token, whatever happened before. Idempotent; never throws. */
  close(): Promise<void>;
}

export interface Forge {
  readonly name: ForgeName;
  /** GitHub: mints a 1-hour token for this one repository; GitLab: uses the stored project token. */
  openSession(): Promise<ForgeSession>;
  /** Follow-ups from review; absent on a forge that does not support them. */
  openReviewSession?(): Promise<ReviewSession>;
}

/** Token lifecycle events for the audit log. Never carries a token. */
export type ForgeAuditEvent =
  | { kind: 'forge.token_minted'; forge: 'github'; installationId: number; repositoryId: number; expiresAt: string }
  | { kind: 'forge.token_revoked'; forge: 'github'; installationId: number; repositoryId: number }
  | { kind: 'forge.token_revoke_failed'; forge: 'github'; installationId: number; repositoryId: number; code: string };

export interface ForgeLogger {
  info(obj: Record<string, unknown>, msg: string): void;
  warn(obj: Record<string, unknown>, msg: string): void;
}

/**
 * What follow-ups from review need of the forge (issue 18), with the same narrowed
 * credential a run holds: who may ask (checked with the forge, never from a name), and the
 * PR/MR comments Userz writes.
 */
export interface ReviewSession {
  /** The user's permission on the repository; `writer` is write/maintain/admin (GitHub) or Developer and above (GitLab). */
  accessOf(user: { login: string; id: number }): Promise<{ writer: boolean; permission: string }>;
  /** Creates a comment on the PR/MR, or edits `commentId`; returns the comment's id. */
  upsertComment(number: number, commentId: string | null, body: string): Promise<string>;
  /** Revokes the credential (GitHub); never throws. */
  close(): Promise<void>;
}
