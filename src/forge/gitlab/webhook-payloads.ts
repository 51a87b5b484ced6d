import { z } from 'zod';

/**
 * The GitLab webhook payloads Userz reads, in GitLab's documented shape
 * (docs.gitlab.com/user/project/integrations/webhook_events), limited to the fields used.
 * Project ids are positive safe integers; objects are loose for GitLab's additions.
 */
const GitLabId = z.number().int().min(1).max(Number.MAX_SAFE_INTEGER);

/** Every event names its project; the project's webhook secret is what verifies the delivery. */
export const GitLabProjectRef = z.looseObject({ project: z.looseObject({ id: GitLabId }) });

/** The project id a (not yet verified) payload names, or null when it names none in GitLab's shape. */
export function gitLabProjectIdOf(payload: unknown): number | null {
  const ref = GitLabProjectRef.safeParse(payload);
  return ref.success ? ref.data.project.id : null;
}

export const GitLabMergeRequestEvent = z.looseObject({
  object_kind: z.literal('merge_request'),
  project: z.looseObject({ id: GitLabId }),
  object_attributes: z.looseObject({
    iid: GitLabId,
    url: z.string().max(2_000),
    action: z.string().max(100).optional(),
    source_branch: z.string().max(1_000),
    source_project_id: GitLabId,
    target_project_id: GitLabId,
  }),
});

export const GitLabNoteEvent = z.looseObject({
  object_kind: z.literal('note'),
  project: z.looseObject({ id: GitLabId }),
  object_attributes: z.looseObject({ id: GitLabId, note: z.string().max(1_000_000), noteable_type: z.string().max(100) }),
});

const HANDLED: Record<string, z.ZodType> = { merge_request: GitLabMergeRequestEvent, note: GitLabNoteEvent };

export type GitLabPayloadCheck = { kind: 'ignored' } | { kind: 'invalid'; issue: string } | { kind: 'valid'; objectKind: string; payload: unknown };

/** Checks a verified payload against the schema of its `object_kind`; kinds Userz does not read are ignored. */
export function checkGitLabPayload(payload: unknown): GitLabPayloadCheck {
  const kind = (payload as { object_kind?: unknown }).object_kind;
  const schema = typeof kind === 'string' && Object.hasOwn(HANDLED, kind) ? HANDLED[kind] : undefined;
  if (!schema) return { kind: 'ignored' };
  const parsed = schema.safeParse(payload);
  if (parsed.success) return { kind: 'valid', objectKind: kind as string, payload: parsed.data };
  const first = parsed.error.issues[0]!;
  return { kind: 'invalid', issue: `${first.path.join('.') || 'body'}: ${first.code}` };
}
