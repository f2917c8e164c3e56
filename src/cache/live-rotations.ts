/**
 * Whether any rotated-out key can be in its grace period now (LiteLLM_DeprecatedVerificationToken
 * with `revoke_at` ahead), so that a key no key row has need not be looked up among them. Most
 * deployments have no key in a grace period, and without this every unknown key (a flood of
 * made-up ones included) would cost two indexed lookups instead of one.
 *
 * The answer is the latest `revoke_at` of any row, asked in the background, never by a Check:
 * - none ahead of now: trusted for `freshForMs` from when the probe began. Past that, rotations are
 *   assumed live while a new probe runs, so one written behind Tollgate's back (LiteLLM's own
 *   /key/regenerate) is seen within that interval, as other rows written that way are.
 * - one ahead of now: lookups go on as without the guard, and nothing is asked until it passes.
 * - unknown (never asked, the probe failed, or `reset` since it began): assumed live, so no old
 *   key in its grace period is ever refused for want of an answer.
 */
import type { Clock } from './entity-cache';

interface Answer {
  /** The latest revoke_at found (ms); -Infinity with no row, +Infinity when unreadable. */
  readonly latestRevokeAt: number;
  /** When the probe that found it began. */
  readonly probedAt: number;
}

interface Probe {
  readonly epoch: number;
  readonly done: Promise<void>;
}

export class LiveRotations {
  private answer: Answer | null = null;
  private probing: Probe | null = null;
  /** A failed probe is not tried again before this instant (the database may be down). */
  private retryAt = Number.NEGATIVE_INFINITY;
  /** Bumped by `reset`: a probe that began before it cannot store its answer. */
  private epoch = 0;

  constructor(
    /** The latest revoke_at of any rotated-out key, null when there is none (or no such table). */
    private readonly latestRevokeAt: () => Promise<Date | null>,
    private readonly freshForMs: number,
    private readonly now: Clock,
    private readonly onProbeError: (error: unknown) => void,
  ) {}

  /** False only when no rotated-out key can be in its grace period: its lookup may then be skipped. */
  mayBeLive(): boolean {
    const now = this.now();
    const answer = this.answer;
    if (answer !== null) {
      if (now < answer.latestRevokeAt) return true;
      const age = now - answer.probedAt;
      // A clock that stepped back leaves the answer's age unknown: asked again, as if stale.
      if (age >= 0 && age < this.freshForMs) return false;
    }
    if (now >= this.retryAt) void this.refresh();
    return true;
  }

  /** Forgets the answer: the invalidation of a deprecated key (a rotation) or of everything. */
  reset(): void {
    this.epoch += 1;
    this.answer = null;
    this.retryAt = Number.NEGATIVE_INFINITY;
  }

  /** Asks now, or joins a probe of the current epoch already out. Never rejects. */
  refresh(): Promise<void> {
    const pending = this.probing;
    if (pending !== null && pending.epoch === this.epoch) return pending.done;
    const probe: Probe = { epoch: this.epoch, done: this.ask(this.epoch) };
    this.probing = probe;
    return probe.done;
  }

  private async ask(epoch: number): Promise<void> {
    const startedAt = this.now();
    try {
      const latest = await this.latestRevokeAt();
      if (epoch !== this.epoch) return;
      const at = latest === null ? Number.NEGATIVE_INFINITY : latest.getTime();
      this.answer = { latestRevokeAt: Number.isNaN(at) ? Number.POSITIVE_INFINITY : at, probedAt: startedAt };
    } catch (error) {
      if (epoch !== this.epoch) return;
      this.answer = null;
      this.retryAt = startedAt + this.freshForMs;
      this.onProbeError(error);
    } finally {
      if (this.probing?.epoch === epoch) this.probing = null;
    }
  }
}
