/** The store a configuration asks for: PostgreSQL when `db` is a URL, else the SQLite file in the data dir. */
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { CseConfig } from '../config.js';
import type { ResourceType } from '../resources/resource-type.js';
import type { SchemaRegistry } from '../schema/registry.js';
import { CachedStore } from './cache.js';
import { SqliteStore } from './sqlite.js';
import type { ResourceStore } from './store.js';

export async function openStore(
  config: CseConfig,
  schema: SchemaRegistry,
  types: ReadonlyMap<number, ResourceType>,
  log: Logger,
): Promise<ResourceStore> {
  if (config.db !== '') {
    // loaded only when asked for: an embedded CSE never loads the PostgreSQL client
    const { PostgresStore } = await import('./postgres.js');
    // no cache: other processes on the database may change any resource at any time (docs/deployment.md)
    return PostgresStore.open(config.db, {
      poolSize: config.dbPoolSize,
      timeoutMs: config.dbTimeoutMs,
      log: log.child({ store: 'postgres' }),
    });
  }
  return new CachedStore(
    new SqliteStore(join(config.dataDir, 'cse.db'), { synchronous: config.sqliteSynchronous, exclusive: true }),
    // leaves: types of which no instance can have a child this CSE implements (contentInstance today)
    (ty) => !(schema.spec(ty)?.childTypes ?? []).some((c) => types.has(c)),
  );
}

export { redactUrl } from '../util/redact.js';
