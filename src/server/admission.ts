/**
 * Bounded in-flight work (issue: overload → back-pressure, never unbounded queues).
 *
 * At most `limit` Checks are being worked on at once. A Check holds its slot until its own work
 * has settled — not merely until it was answered: a Check answered UNAVAILABLE at Envoy's
 * deadline may still be waiting on a database call (bounded by tollgate.db_timeout_ms), and that
 * call is real load. Beyond the limit a Check is refused at once with UNAVAILABLE; queueing it
 * would only make it hit Envoy's deadline later, with the same answer and more memory held.
 */

/** Gives the slot back; calling it again does nothing. */
export type Release = () => void;

/** At most one overload warning per this many milliseconds: logging every refusal is more load. */
const REPORT_EVERY_MS = 10_000;

export class Admission {
  private active = 0;
  private refused = 0;
  private lastReportAt = Number.NEGATIVE_INFINITY;

  constructor(readonly limit: number) {
    if (!Number.isInteger(limit) || limit < 1) throw new Error(`in-flight limit must be a positive integer, got ${limit}`);
  }

  /** Checks being worked on right now. */
  get inFlight(): number {
    return this.active;
  }

  /** Checks refused since start. */
  get refusedTotal(): number {
    return this.refused;
  }

  /** A slot, or null when `limit` Checks are already in flight. */
  tryAcquire(): Release | null {
    if (this.active >= this.limit) {
      this.refused += 1;
      return null;
    }
    this.active += 1;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.active -= 1;
    };
  }

  /** True at most once per REPORT_EVERY_MS, for a rate-limited overload warning. */
  shouldReport(now: number = Date.now()): boolean {
    if (now - this.lastReportAt < REPORT_EVERY_MS) return false;
    this.lastReportAt = now;
    return true;
  }
}
