/**
 * `/key/regenerate`'s `grace_period`: a duration in LiteLLM's `duration_in_seconds` grammar
 * (`30s`, `15m`, `24h`, `2d`, `1w`, `1mo`), read exactly as budget windows read it.
 */
import { durationGridEnd, isDuration, NO_WINDOW } from '../spend/budget-window';
import { AdminInputError } from './admin-inputs';

/**
 * When a key rotated out at `now` with this grace period stops working; null for no grace period
 * (none given, empty, or zero long: LiteLLM then writes no deprecated row and the old key is
 * refused at once). LiteLLM logs an unreadable period and regenerates without one; the CLI refuses
 * it before writing anything, since the operator asked for a grace period they would not get.
 */
export function revokeAtAfter(gracePeriod: string | null | undefined, now: Date): Date | null {
  if (gracePeriod === null || gracePeriod === undefined || gracePeriod === '') return null;
  if (!isDuration(gracePeriod)) {
    throw new AdminInputError(`--grace-period: expected a duration such as 30s, 15m, 24h, 2d, 1w or 1mo, got '${gracePeriod}'`);
  }
  // A window of that duration starting now ends where the grace period does (calendar months included).
  const end = durationGridEnd({ budget_duration: gracePeriod, budget_reset_at: now }, now.getTime());
  return end === NO_WINDOW ? null : new Date(end);
}
