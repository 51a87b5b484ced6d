import { resolve } from 'node:path';
import { UserzError } from '../errors.js';
import type { Command, CommandArgs } from './command.js';
import { runOp } from './run-op.js';

const show = (args: CommandArgs, value: unknown, human: string) => {
  process.stdout.write(args.values.json ? `${JSON.stringify(value)}\n` : `${human}\n`);
};
const counts = (c: Record<string, unknown>) =>
  Object.entries(c)
    .filter(([, v]) => typeof v === 'number' && v > 0)
    .map(([k, v]) => `${k} ${String(v)}`)
    .join(', ') || 'nothing';

/** Deletion on request and export (src/lifecycle/), run where the data is (run-op.ts). */
export const DATA_COMMANDS: Command[] = [
  {
    name: 'data delete',
    summary: 'Delete every row and blob of an org, an App or one reporter (GDPR/CCPA deletion on request)',
    usage: 'userz data delete --org ID | --app ID | --reporter ID-or-email [--org ID] [--yes] [--json]',
    help: 'Without --yes, only counts what would be deleted and exits 1. One audit event records the deletion with counts, without the reporter’s identifiers.',
    options: { org: { type: 'string' }, app: { type: 'string' }, reporter: { type: 'string' }, yes: { type: 'boolean' }, json: { type: 'boolean' } },
    async run(args) {
      const { org, app, reporter } = args.values as { org?: string; app?: string; reporter?: string };
      if (!org && !app && !reporter) throw new UserzError('invalid_input', 'Name what to delete: --org ID, --app ID or --reporter ID-or-email');
      const r = (await runOp(args.config(), 'data.delete', { org, app, reporter, confirm: args.values.yes === true })) as {
        deleted: boolean;
        wouldDelete?: Record<string, number>;
        counts?: Record<string, number>;
      };
      if (!r.deleted) {
        show(args, r, `Would delete: ${counts(r.wouldDelete ?? {})}. Nothing was deleted; run again with --yes.`);
        return 1;
      }
      show(args, r, `Deleted: ${counts(r.counts ?? {})}.`);
      return 0;
    },
  },
  {
    name: 'data export',
    summary: 'Write one archive (JSON plus blobs) of everything stored for an org',
    usage: 'userz data export --org ID [--out FILE.tar] [--json]',
    options: { org: { type: 'string' }, out: { type: 'string' }, json: { type: 'boolean' } },
    async run(args) {
      const org = args.values.org as string | undefined;
      if (!org) throw new UserzError('invalid_input', '--org is required');
      const out = resolve((args.values.out as string | undefined) ?? `userz-export-${org}-${new Date().toISOString().replace(/[:.]/g, '-')}.tar`);
      const r = (await runOp(args.config(), 'data.export', { org, out })) as { file: string; blobs: number; tables: Record<string, number> };
      show(args, r, `Wrote ${r.file}: ${counts(r.tables)}, ${r.blobs} blobs`);
      return 0;
    },
  },
];
