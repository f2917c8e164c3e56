/**
 * The database cannot answer right now: unreachable, refusing, timing out, not connected yet.
 *
 * The one class a Check reads as a database outage. `allow_requests_on_db_unavailable` turns
 * exactly these into an allow (LiteLLM: only when `is_database_connection_error`), so a fault of
 * Tollgate's own, or of Redis, never becomes one. Every database call is bounded by withDeadline
 * (deadline.ts), which classifies its failures into this class at that one boundary.
 */
export class StoreUnavailableError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'StoreUnavailableError';
  }
}
