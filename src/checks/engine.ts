/**
 * Runs an ordered list of checks; the first refusal wins, exactly as LiteLLM stops at the first
 * raised exception. Pure and synchronous: every input is already in the CheckContext.
 */
import type { Check, CheckContext, Denial } from './types';

export interface CheckRefusal {
  /** The refusing check's stable name (for logs, traces and metrics). */
  readonly check: string;
  readonly denial: Denial;
}

/** Told of every evaluated check (tracing, metrics); must not throw. A request's telemetry is one. */
export interface CheckObserver {
  checkEvaluated(name: string, refused: boolean): void;
}

export function runChecks(ctx: CheckContext, checks: readonly Check[], observer?: CheckObserver): CheckRefusal | null {
  // Indexed: this loop runs a few dozen times per Check, and an iterator is garbage each time.
  for (let i = 0; i < checks.length; i += 1) {
    const check = checks[i] as Check;
    const denial = check.decide(ctx);
    observer?.checkEvaluated(check.name, denial !== null);
    if (denial !== null) return { check: check.name, denial };
  }
  return null;
}

export { areBudgetChecksSkipped, isZeroCostRequest } from './budget-scope';
