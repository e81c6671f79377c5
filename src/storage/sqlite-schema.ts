/**
 * The SQLite schema as versioned migrations, applied at start: a user who upgrades the CSE keeps their data. The
 * version lives in `PRAGMA user_version`. Version 1 is the schema the first releases created without a version
 * stamp, so a database with tables and user_version 0 is at version 1. Never edit a released migration: add one.
 */
import type Database from 'better-sqlite3';

export interface SqliteMigration {
  version: number;
  description: string;
  sql: string;
}

export const SQLITE_MIGRATIONS: readonly SqliteMigration[] = [
  {
    version: 1,
    description: 'resources with their indexed columns, labels',
    sql: `
CREATE TABLE IF NOT EXISTS resources (
  seq     INTEGER PRIMARY KEY,        -- creation order: la / ol and child listings
  ri      TEXT NOT NULL UNIQUE,
  pi      TEXT NOT NULL,
  srn     TEXT NOT NULL UNIQUE,       -- structured name; a subtree is one range of this index
  ty      INTEGER NOT NULL,
  ct      TEXT NOT NULL,
  lt      TEXT NOT NULL,
  et      TEXT,
  st      INTEGER,
  cs      INTEGER,
  creator TEXT,
  doc     TEXT NOT NULL               -- the attributes, JSON with short names
);
CREATE INDEX IF NOT EXISTS resources_by_parent_type ON resources (pi, ty);
CREATE INDEX IF NOT EXISTS resources_by_et ON resources (et) WHERE et IS NOT NULL;
CREATE INDEX IF NOT EXISTS resources_by_type_ct ON resources (ty, ct);
CREATE INDEX IF NOT EXISTS resources_by_lt ON resources (lt);
CREATE TABLE IF NOT EXISTS labels (
  lbl TEXT NOT NULL,
  seq INTEGER NOT NULL,
  PRIMARY KEY (lbl, seq)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS labels_by_seq ON labels (seq);
CREATE TRIGGER IF NOT EXISTS resources_labels_gone AFTER DELETE ON resources BEGIN
  DELETE FROM labels WHERE seq = old.seq;
END;`,
  },
  {
    version: 2,
    description: 'children of a parent in creation order without a sort (rcn 4 / 6 listings, paging)',
    // an index on (pi) is (pi, seq) in SQLite (seq is the rowid): child listings read it in order and stop at lim
    sql: `CREATE INDEX IF NOT EXISTS resources_by_parent ON resources (pi);`,
  },
  {
    version: 3,
    description: 'discovery: depth (lvl) and cnf (cty) columns; a type within a subtree, a creation window',
    // depth: the '/' in srn (the CSEBase 0); cnf: contentInfo, whose typeOfContent part cty tests
    sql: `
ALTER TABLE resources ADD COLUMN depth INTEGER NOT NULL DEFAULT 0;
ALTER TABLE resources ADD COLUMN cnf TEXT;
UPDATE resources SET depth = length(srn) - length(replace(srn, '/', '')),
  cnf = CASE json_type(doc, '$.cnf') WHEN 'text' THEN json_extract(doc, '$.cnf') END;
CREATE INDEX IF NOT EXISTS resources_by_type_srn ON resources (ty, srn);
CREATE INDEX IF NOT EXISTS resources_by_ct ON resources (ct);
CREATE INDEX IF NOT EXISTS resources_by_cnf ON resources (cnf) WHERE cnf IS NOT NULL;`,
  },
  {
    version: 4,
    description: 'the outbound notification queue and the state of each notification target',
    // times are ms since the epoch; a notification is removed once delivered (src/storage/queue.ts)
    sql: `
CREATE TABLE IF NOT EXISTS notifications (
  id      INTEGER PRIMARY KEY AUTOINCREMENT, -- queue order; never reused (a polled request's rqi is made of it)
  target  TEXT NOT NULL,
  sub     TEXT NOT NULL,
  created INTEGER NOT NULL,
  request TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS notifications_by_target ON notifications (target, id);
CREATE INDEX IF NOT EXISTS notifications_by_sub ON notifications (sub);
CREATE TABLE IF NOT EXISTS notification_targets (
  target       TEXT PRIMARY KEY,
  next_try     INTEGER NOT NULL DEFAULT 0,
  failures     INTEGER NOT NULL DEFAULT 0,
  last_error   TEXT,
  last_try     INTEGER,
  last_success INTEGER,
  delivered    INTEGER NOT NULL DEFAULT 0,
  dropped      INTEGER NOT NULL DEFAULT 0,
  owner        TEXT,
  lease_until  INTEGER NOT NULL DEFAULT 0
);`,
  },
];

export const SQLITE_SCHEMA_VERSION = SQLITE_MIGRATIONS[SQLITE_MIGRATIONS.length - 1]!.version;

/** Brings the database to the newest version; refuses one written by a newer CSE. Returns the version found. */
export function migrateSqlite(db: Database.Database, migrations = SQLITE_MIGRATIONS): number {
  const newest = migrations[migrations.length - 1]!.version;
  const stamped = db.pragma('user_version', { simple: true }) as number;
  if (stamped === newest) return stamped; // up to date: no write lock needed (a reader may open it beside us)
  // IMMEDIATE: a second process opening the same file waits instead of migrating twice
  db.prepare('BEGIN IMMEDIATE').run();
  try {
    let version = db.pragma('user_version', { simple: true }) as number;
    const found = version;
    if (version === 0) {
      const tables = db.prepare(`SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'resources'`).get();
      if (tables) version = 1; // written before versions were stamped
    }
    if (version > newest)
      throw new Error(
        `the database has schema version ${version}, newer than this CSE knows (${newest}): upgrade the CSE`,
      );
    for (const m of migrations) if (m.version > version) db.exec(m.sql);
    db.pragma(`user_version = ${newest}`);
    db.prepare('COMMIT').run();
    return found;
  } catch (e) {
    if (db.inTransaction) db.prepare('ROLLBACK').run();
    throw e;
  }
}
