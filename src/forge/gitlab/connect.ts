/**
 * Connecting a GitLab project: the token is checked once, against that project, before the
 * lead stores it (encrypted). It must carry the `api` scope and at least Developer access,
 * because delivery pushes a branch and opens a merge request. The token never appears in an
 * error, a log line or the result.
 */
import { UserzError } from '../../errors.js';
import type { ForgeErrorCode } from '../error-codes.js';
import { isForgeCode } from '../errors.js';
import type { RetryPolicy } from '../retry.js';
import { createGitLabApi } from './client.js';
import { field, isNumber, isString, orNull, type Json } from './project.js';

export const DEVELOPER_ACCESS = 30;

export interface GitLabProjectLink {
  externalId: string;
  fullName: string;
  defaultBranch: string;
  webUrl: string;
}

const reject = (code: ForgeErrorCode, message: string): UserzError => new UserzError(code, message);

function accessLevelOf(permissions: unknown): number {
  const perms = (permissions ?? {}) as Record<string, { access_level?: unknown } | null>;
  const levels = [perms.project_access?.access_level, perms.group_access?.access_level].filter(isNumber);
  return Math.max(0, ...levels);
}

async function readToken(api: ReturnType<typeof createGitLabApi>): Promise<Json> {
  try {
    return (await api.PersonalAccessTokens.show()) as unknown as Json;
  } catch (e) {
    if (isForgeCode(e, 'forge_unauthorized')) throw reject('gitlab_token_invalid', 'GitLab rejected the token: it is wrong, expired or revoked');
    throw e;
  }
}

export async function verifyGitLabProject(input: {
  baseUrl: string | null;
  /** Numeric id or `group/project` path. */
  project: string | number;
  token: string;
  retry?: RetryPolicy;
}): Promise<GitLabProjectLink> {
  const api = createGitLabApi({ baseUrl: input.baseUrl, token: input.token, retry: input.retry });
  const self = await readToken(api);
  const scopes = Array.isArray(self.scopes) ? self.scopes : [];
  if (self.active === false) throw reject('gitlab_token_invalid', 'The GitLab token is not active');
  if (!scopes.includes('api')) throw reject('gitlab_token_scope', 'The GitLab token needs the api scope');

  const project = (await orNull(api.Projects.show(input.project))) as Json | null;
  if (!project) throw reject('gitlab_project_not_found', 'The GitLab project does not exist or the token cannot see it');
  const projectId = field(project, 'id', isNumber);

  let level = accessLevelOf(project.permissions);
  if (level < DEVELOPER_ACCESS && isNumber(self.user_id)) {
    // Access inherited from a parent group above the direct one shows only in members/all.
    const member = (await orNull(api.ProjectMembers.show(projectId, self.user_id, { includeInherited: true }))) as Json | null;
    if (member && isNumber(member.access_level)) level = Math.max(level, member.access_level);
  }
  if (level < DEVELOPER_ACCESS) throw reject('gitlab_access_too_low', 'The GitLab token needs at least Developer access to the project');

  const defaultBranch = project.default_branch;
  if (!isString(defaultBranch)) throw reject('gitlab_project_empty', 'The GitLab project has no default branch yet');
  return {
    externalId: String(projectId),
    fullName: field(project, 'path_with_namespace', isString),
    defaultBranch,
    webUrl: field(project, 'web_url', isString),
  };
}
