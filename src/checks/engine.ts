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

/** Told of every evaluated check (tracing, metrics); must not throw. */
export type CheckObserver = (name: string, refused: boolean) => void;

export function runChecks(ctx: CheckContext, checks: readonly Check[], observe?: CheckObserver): CheckRefusal | null {
  for (const check of checks) {
    const denial = check.decide(ctx);
    observe?.(check.name, denial !== null);
    if (denial !== null) return { check: check.name, denial };
  }
  return null;
}

export { areBudgetChecksSkipped, isZeroCostRequest } from './budget-scope';
