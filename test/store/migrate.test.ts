import { migrate, splitStatements } from '../../src/store/index.js';
import { DB_KINDS, openTestDb } from '../helpers/db.js';

const TABLES = ['orgs', 'org_keys', 'apps', 'api_keys', 'repos', 'reports', 'batches', 'runs', 'audit_events', 'webhook_deliveries', 'secrets', 'jobs'];

describe.each(DB_KINDS)('migrations on %s', (kind) => {
  it('creates every table and records each migration once, however often it runs', async () => {
    const db = await openTestDb(kind);
    try {
      const again = await migrate(db);
      expect(again.applied).toEqual([]);
      expect(again.alreadyApplied).toBeGreaterThanOrEqual(1);
      const rows = await db.query<{ table_name: string }>(`SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()`);
      const names = rows.map((r) => r.table_name);
      for (const t of TABLES) expect(names).toContain(t);
      const recorded = await db.query<{ name: string }>('SELECT name FROM schema_migrations ORDER BY name');
      expect(recorded.map((r) => r.name)[0]).toBe('001_init.sql');
      expect(new Set(recorded.map((r) => r.name)).size).toBe(recorded.length);
    } finally {
      await db.close();
    }
  });

  it('rolls a failing migration back entirely', async () => {
    const { mkdtempSync, writeFileSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const dir = mkdtempSync(join(tmpdir(), 'mig-'));
    writeFileSync(join(dir, '001_ok.sql'), 'CREATE TABLE a_ok (id int);');
    writeFileSync(join(dir, '002_bad.sql'), 'CREATE TABLE half_done (id int);\nCREATE TABLE broken (id notatype);');
    const db = await openTestDb(kind);
    try {
      await expect(migrate(db, dir)).rejects.toThrow();
      const tables = await db.query<{ table_name: string }>(
        `SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() AND table_name IN ('a_ok','half_done')`,
      );
      expect(tables.map((t) => t.table_name)).toEqual(['a_ok']);
      const recorded = await db.query<{ name: string }>(
        `SELECT name FROM schema_migrations WHERE name LIKE '00%_%.sql' AND name IN ('001_ok.sql','002_bad.sql')`,
      );
      expect(recorded.map((r) => r.name)).toEqual(['001_ok.sql']);
    } finally {
      await db.close();
    }
  });
});

describe('splitStatements', () => {
  it('drops comment lines and empty statements', () => {
    expect(splitStatements('-- hello; world\nCREATE TABLE x (a int);\n\n;SELECT 1;')).toEqual(['CREATE TABLE x (a int)', 'SELECT 1']);
  });
});
