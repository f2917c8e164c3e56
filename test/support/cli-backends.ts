/**
 * The two stores a CLI suite runs the real bin and server against: the embedded SQLite file, and
 * MySQL + Redis (own database and key prefix). `open` gives the environment both processes get,
 * whether `tollgate migrate` must run first, and what removes it all afterwards.
 */
import { requireMysql, tempSqlitePath } from './mysql';
import { requireRedis } from './redis';

export interface CliBackend {
  readonly env: Record<string, string>;
  readonly migrate: boolean;
  cleanup(): Promise<void>;
}

export const CLI_BACKENDS: ReadonlyArray<{ readonly name: string; open(ctx: Mocha.Context): Promise<CliBackend> }> = [
  {
    name: 'the embedded store',
    open: async () => {
      const file = tempSqlitePath();
      return { env: { TOLLGATE_SQLITE_PATH: file.path }, migrate: false, cleanup: async () => file.cleanup() };
    },
  },
  {
    name: 'MySQL + Redis',
    open: async (ctx) => {
      const database = await requireMysql(ctx);
      const redis = await requireRedis(ctx);
      return {
        env: { DATABASE_URL: database.url, REDIS_URL: redis.url, TOLLGATE_REDIS_PREFIX: redis.prefix },
        migrate: true,
        cleanup: async () => {
          await database.drop();
          await redis.cleanup();
        },
      };
    },
  },
];
