/**
 * Follow-ups from review on GitLab (issue 18): the note author's access level on the
 * project (inherited membership counts; Developer, 30, and above may ask), asked of GitLab
 * with the project's own token, and the MR notes Userz writes.
 */
import { UserzError } from '../../errors.js';
import type { ReviewSession } from '../interface.js';
import type { GitLabApi } from './client.js';

const DEVELOPER = 30;
const LEVELS: Record<number, string> = { 0: 'none', 5: 'minimal', 10: 'guest', 15: 'planner', 20: 'reporter', 30: 'developer', 40: 'maintainer', 50: 'owner' };

export function gitLabReviewSession(api: GitLabApi, projectId: number): ReviewSession {
  return {
    async accessOf(user) {
      let level = 0;
      try {
        const member = (await api.ProjectMembers.show(projectId, user.id, { includeInherited: true })) as {
          id?: number;
          access_level?: number;
          state?: string;
        };
        if (member.id === user.id && member.state !== 'blocked') level = Number(member.access_level ?? 0);
      } catch (e) {
        if (!(e instanceof UserzError && e.code === 'forge_not_found')) throw e;
      }
      return { writer: level >= DEVELOPER, permission: LEVELS[level] ?? String(level) };
    },
    async upsertComment(number, commentId, body) {
      if (commentId) {
        try {
          const edited = (await api.MergeRequestNotes.edit(projectId, number, Number(commentId), { body })) as { id: number };
          return String(edited.id);
        } catch (e) {
          if (!(e instanceof UserzError && e.code === 'forge_not_found')) throw e;
        }
      }
      const created = (await api.MergeRequestNotes.create(projectId, number, body)) as { id: number };
      return String(created.id);
    },
    async close() {
      // A project token is the customer's and long-lived: nothing to revoke.
    },
  };
}
