/**
 * The PostgreSQL schema as versioned migrations, applied at open (`migratePostgres`), and the advisory lock keys
 * shared by the migrations and the leases of src/storage/postgres.ts.
 */
import type pg from 'pg';

export interface PostgresMigration {
  version: number;
  description: string;
  sql: string;
}

/**
 * The schema as versioned migrations, applied at open (`migratePostgres`). Never edit a released migration: add
 * one. COLLATE "C" everywhere a text column is indexed: byte order makes a subtree one range of srn (children are
 * `srn/...`) and makes timestamps compare as strings; for columns only compared for equality it is the cheapest
 * comparison, whatever the cluster's locale.
 */
export const POSTGRES_MIGRATIONS: readonly PostgresMigration[] = [
  {
    version: 1,
    description: 'resources with their indexed columns, labels',
    sql: `
CREATE TABLE resources (
  seq     bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,  -- creation order: la / ol and child listings
  ri      text COLLATE "C" NOT NULL CONSTRAINT resources_ri_key UNIQUE,
  pi      text COLLATE "C" NOT NULL,
  srn     text COLLATE "C" NOT NULL CONSTRAINT resources_srn_key UNIQUE,  -- a subtree is one range of it
  ty      int NOT NULL,
  ct      text COLLATE "C" NOT NULL,
  lt      text COLLATE "C" NOT NULL,
  et      text COLLATE "C",
  st      bigint,
  cs      bigint,
  creator text,
  -- the attributes, short names. json, not jsonb: the text as written (attribute order as on SQLite), strings
  -- may hold the NUL character (jsonb refuses it), and it is cheaper to write and read; ->> still serves queries on it
  doc     json NOT NULL
);
CREATE INDEX resources_by_parent_type ON resources (pi, ty, seq);
CREATE INDEX resources_by_parent ON resources (pi, seq);
CREATE INDEX resources_by_et ON resources (et) WHERE et IS NOT NULL;
CREATE INDEX resources_by_type_ct ON resources (ty, ct);
CREATE INDEX resources_by_lt ON resources (lt);
CREATE TABLE labels (
  lbl text COLLATE "C" NOT NULL,
  seq bigint NOT NULL REFERENCES resources (seq) ON DELETE CASCADE,
  PRIMARY KEY (lbl, seq)
);
CREATE INDEX labels_by_seq ON labels (seq);`,
  },
  {
    version: 2,
    description: 'discovery: depth (lvl) and cnf (cty) columns; a type within a subtree, a creation window',
    // depth: the '/' in srn (the CSEBase 0); cnf: contentInfo, whose typeOfContent part cty tests
    // A document may hold a string PostgreSQL's json operators cannot take apart (NUL, a lone surrogate: the json
    // type stores them as written, its operators then fail for the whole document): cse_string reads such a
    // document's cnf as absent instead of failing the migration, and the cnf is then read from the text.
    sql: `
CREATE FUNCTION cse_string(doc json, nm text) RETURNS text LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
BEGIN
  RETURN CASE json_typeof(doc -> nm) WHEN 'string' THEN doc ->> nm END;
EXCEPTION WHEN others THEN
  RETURN NULL;
END $$;
ALTER TABLE resources ADD COLUMN depth int NOT NULL DEFAULT 0, ADD COLUMN cnf text COLLATE "C";
UPDATE resources SET depth = length(srn) - length(replace(srn, '/', ''));
UPDATE resources SET cnf = cse_string(doc, 'cnf') WHERE strpos(doc::text, '"cnf"') > 0;
-- a document the json operators cannot take apart fails as a whole, its cnf string is fine: read from the text
UPDATE resources SET cnf = substring(doc::text from '"cnf":"([^"\\\\]*)"')
  WHERE cnf IS NULL AND strpos(doc::text, '"cnf":"') > 0;
CREATE INDEX resources_by_type_srn ON resources (ty, srn);
CREATE INDEX resources_by_ct ON resources (ct);
CREATE INDEX resources_by_cnf ON resources (cnf) WHERE cnf IS NOT NULL;`,
  },
  {
    version: 3,
    description: 'the outbound notification queue and the state of each notification target',
    // times are ms since the epoch; a notification is removed once delivered (src/storage/queue.ts)
    sql: `
CREATE TABLE notifications (
  id      bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,  -- queue order
  target  text COLLATE "C" NOT NULL,
  sub     text COLLATE "C" NOT NULL,
  created bigint NOT NULL,
  request text NOT NULL
);
CREATE INDEX notifications_by_target ON notifications (target, id);
CREATE INDEX notifications_by_sub ON notifications (sub);
CREATE TABLE notification_targets (
  target       text COLLATE "C" PRIMARY KEY,
  next_try     bigint NOT NULL DEFAULT 0,
  failures     int NOT NULL DEFAULT 0,
  last_error   text,
  last_try     bigint,
  last_success bigint,
  delivered    bigint NOT NULL DEFAULT 0,
  dropped      bigint NOT NULL DEFAULT 0,
  owner        text,
  lease_until  bigint NOT NULL DEFAULT 0
);`,
  },
];

export const POSTGRES_SCHEMA_VERSION = POSTGRES_MIGRATIONS[POSTGRES_MIGRATIONS.length - 1]!.version;

/** Advisory lock keys (two-int form): the first number is ours, the second tells migrations from leases. */
export const LOCK_SPACE = 0x4f4e4d32; // 'ONM2'
export const MIGRATION_LOCK = 0;
export const LEASE_LOCK_SPACE = LOCK_SPACE + 1;

/**
 * Brings the database to the newest version in one transaction; refuses one written by a newer CSE. The
 * transaction-scoped advisory lock makes CSE processes that start together on one database migrate one after
 * the other (the second finds the work done). Returns the version found.
 */
export async function migratePostgres(
  client: pg.ClientBase,
  migrations: readonly PostgresMigration[] = POSTGRES_MIGRATIONS,
): Promise<number> {
  await client.query('BEGIN');
  try {
    await client.query('SELECT pg_advisory_xact_lock($1, $2)', [LOCK_SPACE, MIGRATION_LOCK]);
    await client.query(
      `CREATE TABLE IF NOT EXISTS schema_migrations (
         version int PRIMARY KEY,
         applied_at timestamptz NOT NULL DEFAULT now()
       )`,
    );
    const { rows } = await client.query<{ v: number }>('SELECT coalesce(max(version), 0) AS v FROM schema_migrations');
    const found = rows[0]!.v;
    const newest = migrations.length ? migrations[migrations.length - 1]!.version : 0;
    if (found > newest)
      throw new Error(
        `the database has schema version ${found}, newer than this CSE knows (${newest}): upgrade the CSE`,
      );
    for (const m of migrations) {
      if (m.version <= found) continue;
      await client.query(m.sql);
      await client.query('INSERT INTO schema_migrations (version) VALUES ($1)', [m.version]);
    }
    await client.query('COMMIT');
    return found;
  } catch (e) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw e;
  }
}
