/**
 * The shared spend counters as the Check path sees them: one EVALSHA per request reads (and if
 * needed seeds or rolls over) every counter of the snapshot, the per-model budget windows the
 * request's models resolve to and the caller's team-member counters of the models its team's
 * `team_member_model_max_budget` limits (none read for a request without one) and the window
 * tails that complete its multi-window budgets (spend/window-tail.ts; none without windows), and
 * the budget checks then run, unchanged and pure, over the snapshot with those values.
 *
 * Concurrent Checks asking for the same counters share one round trip (no added staleness
 * beyond that round trip). When Redis cannot answer in time, the snapshot keeps its database
 * spend and its per-model windows and member counters read as nothing spent: a Redis fault never inflates spend
 * (field-notes §1) and never blocks a decision.
 */
import type { Snapshot } from '../checks/types';
import type { RequestFacts } from '../domain/request';
import type { RedisClient } from '../cache/redis-shared-cache';
import { gatedModelBudgetsOf, modelBudgetName, type ModelBudgetCounter } from '../checks/model-budget-scopes';
import { gatedTeamMemberModelCounters, type TeamMemberModelCounter } from '../checks/team-member-model-budget';
import { READ_COUNTERS } from './counter-scripts';
import { counterSlots, overlaySpend, type CounterSlot } from './counter-slots';
import { replyArray, replyString } from '../cache/lua-script';
import type { SpendKeys } from './redis-keys';
import { targetName, type SpendTarget } from './targets';
import type { WindowSpend } from '../domain/entities';
import { windowSpendIdParts } from './window-limits';
import { isTailReadable, tailFromMinute, withRedisTail } from './window-tail';
import { isWindowSpend } from './window-spend';

export interface SpendCountersOptions {
  readonly timeoutMs: number;
  /** A counter with nothing queued expires after this long without a charge (then re-seeds from the DB). */
  readonly idleMs: number;
  readonly onError: (error: unknown) => void;
}

const NO_WINDOWS: readonly ModelBudgetCounter[] = Object.freeze([]);
const NOTHING_SPENT: ReadonlyMap<string, number> = new Map();
const NO_MEMBER_COUNTERS: readonly TeamMemberModelCounter[] = Object.freeze([]);
const NO_TAILS: readonly WindowTailRead[] = Object.freeze([]);
const NO_NAMES: readonly string[] = Object.freeze([]);

/** One multi-window budget completed by its entity's tail (spend/window-tail.ts): its cached state, and where the tail is read from. */
export interface WindowTailRead {
  /** Its windowSpendId: its entry in the snapshot's budgetWindowSpend. */
  readonly id: string;
  readonly state: WindowSpend;
  readonly target: SpendTarget;
  readonly fromMinute: number;
}

/**
 * The snapshot's windows whose cached state the tails can complete: every one with a state
 * (a store that sums only in full gives a number, which stays as it is) whose settled end the
 * tails still hold. None (no allocation) for a snapshot without windows: most Checks.
 */
export function windowTailReads(snapshot: Snapshot, now: number): readonly WindowTailRead[] {
  const spends = snapshot.budgetWindowSpend;
  if (spends === undefined || spends.size === 0) return NO_TAILS;
  const reads: WindowTailRead[] = [];
  for (const [id, state] of spends) {
    // A value that is no readable state (another version's, from the shared tier) reads as the
    // window check reads it: the tails cannot complete it.
    if (typeof state === 'number' || !isWindowSpend(state) || !isTailReadable(state, now)) continue;
    const parts = windowSpendIdParts(id);
    if (parts === null) continue;
    reads.push({ id, state, target: { kind: parts.entity, id: parts.entityId }, fromMinute: tailFromMinute(state) });
  }
  return reads;
}

/** A tail read's name among the values read: a JSON list no target, window or member counter name can spell. */
function tailName(read: WindowTailRead): string {
  return JSON.stringify(['window_tail', read.id]);
}

/** The snapshot's windows with what their tails hold (window-tail.ts withRedisTail). */
function withTails(snapshot: Snapshot, tails: readonly WindowTailRead[], values: ReadonlyMap<string, number>): Snapshot {
  if (tails.length === 0 || snapshot.budgetWindowSpend === undefined) return snapshot;
  const spends = new Map(snapshot.budgetWindowSpend);
  for (const read of tails) spends.set(read.id, withRedisTail(read.state, values.get(tailName(read)) ?? 0));
  return Object.freeze({ ...snapshot, budgetWindowSpend: spends });
}

/** A member counter's name among the values read: a JSON list no target or window name can spell. */
function memberCounterName(counter: TeamMemberModelCounter): string {
  return JSON.stringify(['team_member_model', counter.userId, counter.teamId, counter.model]);
}

/**
 * The snapshot when the per-model windows could not be read: every window as nothing spent (a
 * limit of 0 still refuses), as LiteLLM's limiter reads a counter its Redis did not return. Not
 * the rows' `model_spend`: metering does not keep it, and what LiteLLM left there (spend since the
 * row's budget reset, not in the window) would make a Redis fault refuse a caller within budget.
 */
function unreadWindows(snapshot: Snapshot, windows: readonly ModelBudgetCounter[]): Snapshot {
  return windows.length === 0 ? snapshot : Object.freeze({ ...snapshot, modelBudgetSpend: NOTHING_SPENT });
}

export class SpendCounters {
  private readonly inFlight = new Map<string, Promise<Map<string, number>>>();

  constructor(
    private readonly client: RedisClient,
    private readonly keys: SpendKeys,
    private readonly options: SpendCountersOptions,
  ) {}

  /**
   * The snapshot with shared spend, and the spend in the current window of each per-model budget
   * the request's checks read (`modelBudgetSpend`) and the caller's spend on each model its team
   * limits per member (`teamMemberModelSpend`), in the same round trip; unchanged when it has no
   * counters, and with its database spend when Redis is unavailable (its windows then read as
   * nothing spent: unreadWindows; its member counters too, being absent).
   */
  async overlay(snapshot: Snapshot, now: Date, facts?: Pick<RequestFacts, 'model'> & Partial<Pick<RequestFacts, 'route' | 'path'>>): Promise<Snapshot> {
    const slots = counterSlots(snapshot, now.getTime());
    const windows = facts === undefined ? NO_WINDOWS : gatedModelBudgetsOf(snapshot, facts);
    const members = facts === undefined ? NO_MEMBER_COUNTERS : gatedTeamMemberModelCounters(snapshot, facts);
    const tails = windowTailReads(snapshot, now.getTime());
    if (slots.length === 0 && windows.length === 0 && members.length === 0 && tails.length === 0) return snapshot;
    if (!this.client.isReady) return unreadWindows(snapshot, windows);
    try {
      const values = await this.read(slots, now.getTime(), windows, members, tails);
      const overlaid = withTails(overlaySpend(snapshot, values), tails, values);
      if (windows.length === 0 && members.length === 0) return overlaid;
      const modelBudgetSpend =
        windows.length === 0 ? {} : { modelBudgetSpend: new Map(windows.map((w) => [modelBudgetName(w), values.get(modelBudgetName(w)) ?? 0] as const)) };
      const teamMemberModelSpend =
        members.length === 0 ? {} : { teamMemberModelSpend: new Map(members.map((c) => [c.model, values.get(memberCounterName(c)) ?? 0] as const)) };
      return Object.freeze({ ...overlaid, ...modelBudgetSpend, ...teamMemberModelSpend });
    } catch (error) {
      this.options.onError(error);
      return unreadWindows(snapshot, windows);
    }
  }

  /** Counter values by target name (seeding absent ones), then window spends by modelBudgetName, then member counters', then window tails'. */
  read(
    slots: readonly CounterSlot[],
    now: number,
    windows: readonly ModelBudgetCounter[] = NO_WINDOWS,
    members: readonly TeamMemberModelCounter[] = NO_MEMBER_COUNTERS,
    tails: readonly WindowTailRead[] = NO_TAILS,
  ): Promise<Map<string, number>> {
    const signature = [
      ...slots.map((s) => `${targetName(s.target)}@${s.windowEnd}`),
      ...windows.map(modelBudgetName),
      ...members.map(memberCounterName),
      // A Check without windows (most) allocates nothing for them.
      ...(tails.length === 0 ? NO_NAMES : tails.map((t) => `${tailName(t)}@${t.fromMinute}`)),
    ].join('\n');
    const shared = this.inFlight.get(signature);
    if (shared !== undefined) return shared;
    const read = this.readNow(slots, now, windows, members, tails).finally(() => this.inFlight.delete(signature));
    this.inFlight.set(signature, read);
    return read;
  }

  private async readNow(
    slots: readonly CounterSlot[],
    now: number,
    windows: readonly ModelBudgetCounter[],
    members: readonly TeamMemberModelCounter[],
    tails: readonly WindowTailRead[],
  ): Promise<Map<string, number>> {
    const args = [String(now), String(this.options.idleMs), String(slots.length), String(windows.length), String(members.length), String(tails.length)];
    for (const slot of slots) args.push(String(slot.windowEnd), String(slot.windowStart), String(slot.seed));
    for (const tail of tails) args.push(String(tail.fromMinute));
    const keys = [
      ...slots.map((s) => this.keys.counter(s.target)),
      ...windows.map((w) => this.keys.modelBudget(w)),
      ...members.map((c) => this.keys.teamMemberModel(c)),
      ...(tails.length === 0 ? NO_NAMES : tails.map((t) => this.keys.windowTail(t.target))),
    ];
    const reply = replyArray(await READ_COUNTERS.run(this.client, keys, args, this.options.timeoutMs));
    const values = new Map<string, number>();
    const names = [...slots.map((s) => targetName(s.target)), ...windows.map(modelBudgetName), ...members.map(memberCounterName), ...(tails.length === 0 ? NO_NAMES : tails.map(tailName))];
    names.forEach((name, i) => {
      const value = Number(replyString(reply[i]));
      if (Number.isFinite(value)) values.set(name, value);
    });
    return values;
  }
}
