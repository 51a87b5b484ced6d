/**
 * Removes what a crashed or killed Userz process left behind: containers of this instance
 * older than the wall clock plus a margin (a pooled sandbox counts from its acquisition),
 * and workspaces whose container is gone. Sandboxes the calling driver still holds are
 * skipped; they have their own wall-clock timers.
 */
import type { SandboxConfig } from './limits.js';
import type { ReapResult } from './interface.js';
import { LABEL, SANDBOX_ROLE, leaseStartOf } from './container-spec.js';
import { listWorkspaces, removeWorkspace, workspacePaths } from './workspace.js';

export async function reapSandboxes(config: SandboxConfig, held: ReadonlySet<string>, now = Date.now()): Promise<ReapResult> {
  const { docker, limits, reapMarginMs, workspaceRoot, log } = config;
  const listed = await docker.listContainers({
    all: true,
    filters: { label: [`${LABEL.role}=${SANDBOX_ROLE}`, `${LABEL.instance}=${config.instance}`] },
  });
  const keep = new Set<string>();
  let containers = 0;
  for (const c of listed) {
    const sandboxId = c.Labels[LABEL.sandboxId] ?? '';
    if (held.has(sandboxId)) {
      keep.add(sandboxId);
      continue;
    }
    const createdAtMs = Number(c.Labels[LABEL.createdAt]) || 0;
    const startedAtMs = Math.max(createdAtMs, leaseStartOf(c.Names) ?? 0);
    if (now - startedAtMs <= limits.wallClockMs + reapMarginMs) {
      keep.add(sandboxId);
      continue;
    }
    try {
      await docker.getContainer(c.Id).remove({ force: true, v: true });
      containers++;
      log.warn({ sandboxId, runId: c.Labels[LABEL.runId] }, 'Reaped an expired sandbox container');
    } catch (e) {
      if ((e as { statusCode?: number }).statusCode !== 404) throw e;
    }
  }
  let workspaces = 0;
  for (const ws of await listWorkspaces(workspaceRoot)) {
    if (held.has(ws.sandboxId) || keep.has(ws.sandboxId)) continue;
    // A workspace is made just before its container: give another process time to create it.
    if (now - ws.createdAtMs < reapMarginMs) continue;
    await removeWorkspace(workspacePaths(workspaceRoot, ws.sandboxId));
    workspaces++;
    log.warn({ sandboxId: ws.sandboxId }, 'Reaped an orphaned sandbox workspace');
  }
  return { containers, workspaces };
}
