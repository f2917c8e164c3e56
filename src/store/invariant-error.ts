/**
 * A rule of Tollgate's own store code was broken: a lookup defined on an entity it cannot serve,
 * a key of the wrong length, a row that vanished right after it was written.
 *
 * Distinct from the Error a driver throws, so that withDeadline (deadline.ts) never reads it as
 * the database being away: with `allow_requests_on_db_unavailable` on, a database outage allows,
 * a bug of ours must not.
 */
export class StoreInvariantError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StoreInvariantError';
  }
}
