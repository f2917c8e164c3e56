/**
 * The stores an end-to-end suite runs `tollgate serve` on: the environment to start it with, the
 * settings to seed rows through, and the clean-up. Each suite is run once per backend.
 */
import type { DatabaseSettings } from '../../src/store/data-source';
import { requireMysql, tempSqlitePath } from './mysql';
import { requireRedis } from './redis';

export interface E2eBackend {
  readonly name: string;
  open(ctx: Mocha.Context): Promise<{ env: Record<string, string>; settings: DatabaseSettings; cleanup: () => Promise<void> }>;
}

/** MariaDB (its own database per run) and, with `withRedis`, Redis (its own key prefix). */
export function mariaDbBackend(withRedis: boolean): E2eBackend {
  return {
    name: withRedis ? 'MariaDB + Redis' : 'MariaDB',
    async open(ctx) {
      const database = await requireMysql(ctx);
      const redis = withRedis ? await requireRedis(ctx) : null;
      return {
        env: {
          DATABASE_URL: database.url,
          ...(redis === null ? {} : { REDIS_URL: redis.url, TOLLGATE_REDIS_PREFIX: redis.prefix }),
        },
        settings: { databaseUrl: database.url, sqlitePath: '', dbTimeoutMs: 2000 },
        cleanup: async () => {
          await database.drop();
          await redis?.cleanup();
        },
      };
    },
  };
}

/** The embedded store, in a temporary file. */
export const SQLITE_BACKEND: E2eBackend = {
  name: 'embedded SQLite',
  async open() {
    const file = tempSqlitePath();
    return {
      env: { TOLLGATE_SQLITE_PATH: file.path },
      settings: { databaseUrl: null, sqlitePath: file.path, dbTimeoutMs: 2000 },
      cleanup: async () => file.cleanup(),
    };
  },
};
