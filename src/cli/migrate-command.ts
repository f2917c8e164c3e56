import type { Settings } from '../config/settings';
import { createDataSource } from '../store/data-source';
import { runMigrations } from '../store/migrations';
import { safeUrl } from '../observability/logger';

export async function runMigrate(settings: Settings): Promise<number> {
  const dataSource = createDataSource(settings);
  await dataSource.initialize();
  try {
    const applied = await runMigrations(dataSource);
    const where = settings.databaseUrl === null ? settings.sqlitePath : safeUrl(settings.databaseUrl);
    console.log(
      applied.length === 0
        ? `schema is up to date (${where})`
        : `applied ${applied.map((m) => m.name).join(', ')} (${where})`,
    );
    return 0;
  } finally {
    await dataSource.destroy();
  }
}
