/**
 * Between the snapshot and the shared counters, both directions pure:
 * - `counterSlots`: which counters a snapshot's entities have, the budget window each is in and
 *   the database spend to seed it with if it does not exist yet;
 * - `overlaySpend`: the snapshot with each entity's `spend` replaced by its counter, so the
 *   unchanged budget checks compare the shared, up-to-date spend.
 */
import type { Snapshot } from '../checks/types';
import { callerUserId } from '../checks/context';
import { currentWindow, NO_WINDOW, spendInCurrentWindow, type BudgetWindowSource } from './budget-window';
import { targetName, type SpendTarget } from './targets';

export interface CounterSlot {
  readonly target: SpendTarget;
  /** Window end (epoch ms) the counter must be in; NO_WINDOW when the entity has none. */
  readonly windowEnd: number;
  /**
   * Where that window began (the previous window's end): the counter tells by it a caller one
   * window ahead or behind (a reset, a lagging clock) from one whose row's window changed.
   */
  readonly windowStart: number;
  /** The database spend of the current window: the counter's value if it has to be created. */
  readonly seed: number;
}

interface SpendHolder {
  readonly target: SpendTarget;
  readonly spend: number;
  readonly window: BudgetWindowSource | null;
}

/** Teams and users carry their window on their own row (keys too; the others on a budget row). */
function ownWindow(row: { readonly budget_duration?: string | null; readonly budget_reset_at?: Date | null }): BudgetWindowSource {
  return { budget_duration: row.budget_duration ?? null, budget_reset_at: row.budget_reset_at ?? null };
}

function holdersOf(snapshot: Snapshot): SpendHolder[] {
  const { key, team, membership, user, endUser, organization, project, tags } = snapshot;
  const holders: SpendHolder[] = [];
  if (key !== null) holders.push({ target: { kind: 'key', id: key.token }, spend: key.spend, window: key });
  if (user !== null) holders.push({ target: { kind: 'user', id: user.user_id }, spend: user.spend, window: ownWindow(user) });
  if (team !== null) holders.push({ target: { kind: 'team', id: team.team_id }, spend: team.spend, window: ownWindow(team) });
  if (membership !== null) {
    holders.push({
      target: { kind: 'team_member', id: membership.user_id, teamId: membership.team_id },
      spend: membership.spend,
      window: membership.budget,
    });
  } else {
    const nonMember = nonMemberTarget(snapshot);
    // No row holds this spend: the counter starts from 0, in the default budget's window.
    if (nonMember !== null) holders.push({ target: nonMember, spend: 0, window: snapshot.teamMemberDefaultBudget ?? null });
  }
  if (organization !== null) {
    holders.push({ target: { kind: 'organization', id: organization.organization_id }, spend: organization.spend, window: organization.budget });
  }
  if (project !== null) holders.push({ target: { kind: 'project', id: project.project_id }, spend: project.spend, window: project.budget });
  if (endUser !== null) holders.push({ target: { kind: 'end_user', id: endUser.user_id }, spend: endUser.spend, window: endUser.budget });
  for (const tag of tags) holders.push({ target: { kind: 'tag', id: tag.tag_name }, spend: tag.spend, window: tag.budget });
  return holders;
}

/**
 * The team-member counter of a caller with no membership row whom the team's default member budget
 * holds (checks/team-member-budget.ts): metering charges it on every response of a team caller
 * (targets.ts), so it holds what such a caller spent in the team. Null when no budget reads it.
 */
function nonMemberTarget(snapshot: Snapshot): SpendTarget | null {
  const { team, membership } = snapshot;
  if (team === null || membership !== null || snapshot.teamMemberDefaultBudget == null) return null;
  const userId = callerUserId(snapshot);
  return userId === null ? null : { kind: 'team_member', id: userId, teamId: team.team_id };
}

/** The window a row's spend column is in now, and the part of that spend a counter starts from. */
export function counterSeed(
  spend: number,
  window: BudgetWindowSource | null,
  now: number,
): { windowEnd: number; windowStart: number; seed: number } {
  const { start, end } = currentWindow(window, now);
  return { windowEnd: end, windowStart: start, seed: end === NO_WINDOW ? spend : spendInCurrentWindow(spend, window, now) };
}

export function counterSlots(snapshot: Snapshot, now: number): CounterSlot[] {
  return holdersOf(snapshot).map(({ target, spend, window }) => ({ target, ...counterSeed(spend, window, now) }));
}

/** Counter values by `targetName`; entities without one keep the database spend. */
export function overlaySpend(snapshot: Snapshot, spend: ReadonlyMap<string, number>): Snapshot {
  const valueOf = (target: SpendTarget, fallback: number): number => spend.get(targetName(target)) ?? fallback;
  const { key, team, membership, user, endUser, organization, project, tags } = snapshot;
  const nonMember = membership === null ? nonMemberTarget(snapshot) : null;
  return Object.freeze({
    ...snapshot,
    ...(nonMember === null ? {} : { nonMemberTeamSpend: valueOf(nonMember, 0) }),
    key: key === null ? null : Object.freeze({ ...key, spend: valueOf({ kind: 'key', id: key.token }, key.spend) }),
    team: team === null ? null : Object.freeze({ ...team, spend: valueOf({ kind: 'team', id: team.team_id }, team.spend) }),
    membership:
      membership === null
        ? null
        : Object.freeze({
            ...membership,
            spend: valueOf({ kind: 'team_member', id: membership.user_id, teamId: membership.team_id }, membership.spend),
          }),
    user: user === null ? null : Object.freeze({ ...user, spend: valueOf({ kind: 'user', id: user.user_id }, user.spend) }),
    endUser:
      endUser === null ? null : Object.freeze({ ...endUser, spend: valueOf({ kind: 'end_user', id: endUser.user_id }, endUser.spend) }),
    organization:
      organization === null
        ? null
        : Object.freeze({
            ...organization,
            spend: valueOf({ kind: 'organization', id: organization.organization_id }, organization.spend),
          }),
    project:
      project === null ? null : Object.freeze({ ...project, spend: valueOf({ kind: 'project', id: project.project_id }, project.spend) }),
    tags: Object.freeze(tags.map((tag) => Object.freeze({ ...tag, spend: valueOf({ kind: 'tag', id: tag.tag_name }, tag.spend) }))),
  });
}
