/**
 * An operator setting an entity's spend by hand (`tollgate spend set`). With metering the budget
 * checks read the shared Redis counter, not the column, so writing only the column would leave
 * every replica admitting (or refusing) on the old spend until the counter next re-seeds, which
 * may be days away. The counter is therefore overwritten too, with the value a fresh seed from
 * the new column would have (the part of it in the row's current budget window).
 *
 * Not exact under traffic: charges already queued for the entity when the value is set (about
 * one flush interval of them) are still added to the column when they flush, but not to the
 * counter; the number queued is reported so the operator can tell.
 */
import type { RedisClient } from '../cache/redis-shared-cache';
import { buildPolicy } from '../config/policy';
import type { LiteLlmConfig } from '../config/litellm-config';
import { loadEndUser } from '../snapshot/load-snapshot';
import type { AuthStore } from '../store/auth-store';
import type { BudgetWindowSource } from './budget-window';
import { SET_COUNTER_SPEND } from './counter-scripts';
import { counterSeed } from './counter-slots';
import { replyArray } from '../cache/lua-script';
import type { SpendKeys } from './redis-keys';
import type { SpendTarget } from './targets';

/** The single-id entities `tollgate spend set` can name. */
export type OverridableKind = Exclude<SpendTarget['kind'], 'team_member'>;

export type CounterOverride =
  /** No counter existed and none was created: the next Check seeds one from the new column. */
  | { readonly counter: 'absent' }
  | { readonly counter: 'overwritten' | 'created'; readonly value: number; readonly queued: number };

export interface CounterOverrideOptions {
  /** Create the counter when absent (metering on): a Check racing the cache invalidation would
   *  otherwise seed it from the old, still cached column value, and keep it. */
  readonly create: boolean;
  readonly idleMs: number;
  readonly timeoutMs: number;
}

export async function overrideCounterSpend(
  client: RedisClient,
  keys: SpendKeys,
  target: SpendTarget,
  spend: number,
  window: BudgetWindowSource | null,
  now: number,
  options: CounterOverrideOptions,
): Promise<CounterOverride> {
  const { windowEnd, windowStart, seed } = counterSeed(spend, window, now);
  const reply = replyArray(
    await SET_COUNTER_SPEND.run(
      client,
      [keys.counter(target)],
      [String(seed), String(windowEnd), String(now), String(options.idleMs), options.create ? '1' : '0', String(windowStart)],
      options.timeoutMs,
    ),
  );
  const existed = Number(reply[0]) === 1;
  if (!existed && !options.create) return { counter: 'absent' };
  return { counter: existed ? 'overwritten' : 'created', value: seed, queued: Number(reply[1]) };
}

/**
 * The budget window of the row whose spend was set, read as the Check path reads it (keys,
 * users and teams on their own row; the others on their budget row, an end user without one on
 * `litellm_settings.max_end_user_budget_id`). Null when the entity has no window.
 */
export async function budgetWindowOf(store: AuthStore, config: LiteLlmConfig, kind: OverridableKind, id: string): Promise<BudgetWindowSource | null> {
  switch (kind) {
    case 'key':
      return store.findKey(id);
    case 'user':
      return windowColumns(await store.findUser(id));
    case 'team':
      return windowColumns(await store.findTeam(id));
    case 'organization':
      return (await store.findOrganization(id))?.budget ?? null;
    case 'project':
      return (await store.findProject(id))?.budget ?? null;
    case 'end_user':
      return (await loadEndUser(store, id, buildPolicy(config)))?.budget ?? null;
    case 'tag':
      return (await store.findTags([id]))[0]?.budget ?? null;
  }
}

function windowColumns(row: { readonly budget_duration?: string | null; readonly budget_reset_at?: Date | null } | null): BudgetWindowSource | null {
  return row === null ? null : { budget_duration: row.budget_duration ?? null, budget_reset_at: row.budget_reset_at ?? null };
}
