/**
 * The window of LiteLLM's global spend (`MonthlyGlobalSpend`, litellm-schema.md §3.2):
 * `"startTime" >= CURRENT_DATE - INTERVAL '30 days'`. A rolling 30 days, not a calendar month,
 * whose start is a day boundary (midnight UTC, the zone LiteLLM's timestamps are stored in).
 */
const DAY_MS = 24 * 60 * 60 * 1000;
export const GLOBAL_SPEND_WINDOW_DAYS = 30;

export function globalSpendCutoff(now: Date): Date {
  const today = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate());
  return new Date(today - GLOBAL_SPEND_WINDOW_DAYS * DAY_MS);
}

/** `YYYY-MM-DD HH:MM:SS.mmm` in UTC: what a DATETIME(3) column and TypeORM's SQLite text both compare against. */
export function toSqlUtc(date: Date): string {
  return date.toISOString().replace('T', ' ').replace('Z', '');
}
