// A preload for experiments (bench/run.ts --sqlite-temp-store-memory, bench/index-cost.ts --sqlite-temp-store
// memory): every better-sqlite3 connection put in WAL mode also gets `PRAGMA temp_store = MEMORY`, which keeps
// SQLite's statement journals (the savepoint of each request in a group commit) in memory instead of spilling
// them to a temporary file past 64 KiB. The CSE itself does not set it.
import { createRequire } from 'node:module';

const Database = createRequire(import.meta.url)('better-sqlite3');
const pragma = Database.prototype.pragma;
Database.prototype.pragma = function (source, options) {
  const result = pragma.call(this, source, options);
  if (/^\s*journal_mode\s*=\s*WAL\s*$/i.test(source)) pragma.call(this, 'temp_store = MEMORY');
  return result;
};
