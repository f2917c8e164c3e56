/**
 * An INSERT refused because the key is taken: MySQL/MariaDB `ER_DUP_ENTRY`, SQLite's constraint
 * codes. Read through TypeORM's `driverError` and StoreUnavailableError's `cause`.
 */
export function isDuplicateKey(error: unknown): boolean {
  for (let at: unknown = error, depth = 0; at !== null && typeof at === 'object' && depth < 4; depth += 1) {
    const code = (at as { code?: unknown }).code;
    if (code === 'ER_DUP_ENTRY' || (typeof code === 'string' && code.startsWith('SQLITE_CONSTRAINT'))) return true;
    const next = at as { driverError?: unknown; cause?: unknown };
    at = next.driverError ?? next.cause;
  }
  return false;
}
