/**
 * common_checks step 4.3 (`_check_team_member_model_budget`, newer LiteLLM): the team's
 * `metadata.team_member_model_max_budget` (`{model: {max_budget: N}}`) caps what each member of the
 * team may spend on a model, every member on their own. Needs the team, the caller's user id
 * (`valid_token.user_id`: a JWT's user id too) and a model: the request's model, the first of a
 * list, and (a deliberate difference) the one LiteLLM's handler serves in its place (the path's or
 * `?model=`), which is charged instead. The entry is looked up under that exact name (no `provider/` fallback, no alias); an entry
 * that is not an object, or has no `max_budget`, limits nothing. Spend reaching the limit refuses
 * (`>=`, so a limit of 0 refuses at once): 400 budget_exceeded, "ExceededBudget: Team member model
 * budget exceeded. User=…, Team=…, Model=…. Spend=$…, Budget=$…" (Python's `:.6f`).
 *
 * Spend: LiteLLM reads its counter `spend:team_member:<user>:<team>:model:<model>`, falling back to
 * 0; its `increment_spend_counters` charges key, team, member, user, end user, tags and organization
 * but not that counter, and its budget reset job never clears it. Tollgate reads what it can see:
 * - without `tollgate.metering`, nothing (LiteLLM's counter is not Tollgate's to read): 0, so only
 *   a limit of 0 refuses;
 * - with metering, its own counter per member, team and model (spend/redis-keys.ts
 *   `teamMemberModel`), charged with each metered response for the request's model when the team
 *   has an entry for it, never reset (as LiteLLM's), read by the spend overlay in the round trip it
 *   already makes (`teamMemberModelSpend`; 0 when never charged or Redis could not answer).
 *
 * A body Envoy cut before its model (UNREAD_MODEL) is checked against every entry of the team's
 * map, any one spent refusing, and charged to none (as the per-model budgets are,
 * model-budget-scopes.ts `budgetedModelsOf`).
 *
 * Diverges: a `team_member_model_max_budget` that is not an object, or a `max_budget` that is
 * neither a number nor a boolean, makes LiteLLM's check raise (an AttributeError or TypeError, a
 * failed request); here it limits nothing.
 */
import type { JsonObject } from '../domain/entities';
import { UNREAD_MODEL, type RequestFacts } from '../domain/request';
import type { Check, Snapshot } from './types';
import { budgetExceeded } from './errors';
import { areBudgetChecksSkipped } from './budget-scope';
import { callerUserId, isJsonObject } from './context';
import { pyFixed } from './python-format';
import { hasOwnKeys } from '../util/own-keys';
import { distinct } from '../util/distinct';
import { servedModelNamesOf } from '../routes/handler-model';

/** One member's counter for one model of the team's map: LiteLLM's `spend:team_member:<user>:<team>:model:<model>`. */
export interface TeamMemberModelCounter {
  readonly userId: string;
  readonly teamId: string;
  readonly model: string;
}

/** The team's map, when it has entries (LiteLLM: `if not team_member_model_max_budget: return`). */
export function teamMemberModelLimitsOf(snapshot: Snapshot): JsonObject | null {
  const limits = snapshot.team?.metadata['team_member_model_max_budget'];
  return isJsonObject(limits) && hasOwnKeys(limits) ? limits : null;
}

/** An entry's `max_budget`; null when the entry limits nothing. A Python bool compares as 0 or 1. */
export function memberModelMaxBudget(limits: JsonObject, model: string): number | null {
  const entry = Object.hasOwn(limits, model) ? limits[model] : undefined;
  if (!isJsonObject(entry)) return null;
  const max = entry['max_budget'];
  if (typeof max === 'boolean') return max ? 1 : 0;
  return typeof max === 'number' ? max : null;
}

/** What the check reads of a request: its model(s), and the route and raw path that name the model LiteLLM's handler serves. */
export type MemberModelRequest = Pick<RequestFacts, 'model'> & Partial<Pick<RequestFacts, 'route' | 'path' | 'completionModel'>>;

/** The model the check reads: the request's, the first of a list; null when it names none. */
function checkedModelOf(request: MemberModelRequest): string | null {
  const model = request.model;
  if (model === null) return null;
  return typeof model === 'string' ? model : (model[0] ?? null);
}

/**
 * The model(s) LiteLLM's handler serves in place of the body's (the path's or `?model=`,
 * routes/handler-model.ts), which the model checks read after the body's (envoy/attributes.ts):
 * null when it serves the body's. Only a list can hold one the body did not name, or a body cut
 * before its model where `general_settings.completion_model` applies (served whatever the body holds).
 */
function servedModelsOf(request: MemberModelRequest): readonly string[] | null {
  const model = request.model;
  if (model === null || request.route === undefined) return null;
  if (typeof model === 'string' && (request.completionModel === undefined || model !== UNREAD_MODEL)) return null;
  const names = servedModelNamesOf({ route: request.route, path: request.path, completionModel: request.completionModel });
  return names === null ? null : typeof names === 'string' ? [names] : names;
}

/** The caller's user id and team, when the team has a map: null for every other Check. */
function memberOf(snapshot: Snapshot): { readonly userId: string; readonly teamId: string; readonly limits: JsonObject } | null {
  const limits = teamMemberModelLimitsOf(snapshot);
  const userId = callerUserId(snapshot);
  if (limits === null || userId === null || snapshot.team === null) return null;
  return { userId, teamId: snapshot.team.team_id, limits };
}

/** Shared: most Checks (a team without a map, or no team) build no list, as for every other Check. */
const NO_COUNTERS: readonly TeamMemberModelCounter[] = Object.freeze([]);

/**
 * The counters the check reads: the limited entry of the request's model, or every limited entry
 * when the model went unread. None (and nothing built) for a team without a map.
 */
export function gatedTeamMemberModelCounters(snapshot: Snapshot, request: MemberModelRequest): readonly TeamMemberModelCounter[] {
  const member = memberOf(snapshot);
  const model = member === null ? null : checkedModelOf(request);
  if (member === null || model === null) return NO_COUNTERS;
  const { userId, teamId, limits } = member;
  // The model served too, when the handler serves another: a member spent on it must not be served
  // it by naming a model with budget left in the body.
  const served = model === UNREAD_MODEL ? null : servedModelsOf(request);
  const models = model === UNREAD_MODEL ? Object.keys(limits) : served === null ? [model] : distinct([model, ...served]);
  return models.filter((m) => memberModelMaxBudget(limits, m) !== null).map((m) => ({ userId, teamId, model: m }));
}

/**
 * The counter a metered response is charged to: the limited entry of the model the request named,
 * or of the one LiteLLM's handler serves in its place (the response is that model's); none for one
 * unread, unless `general_settings.completion_model` is served whatever the body holds.
 */
export function chargedTeamMemberModelCounter(snapshot: Snapshot, request: MemberModelRequest): TeamMemberModelCounter | null {
  const counters = gatedTeamMemberModelCounters(snapshot, request);
  const served = counters.length === 0 ? null : servedModelsOf(request);
  if (served === null) return checkedModelOf(request) === UNREAD_MODEL ? null : (counters[0] ?? null);
  return counters.find((counter) => served.includes(counter.model)) ?? null;
}

export const teamMemberModelBudget: Check = {
  name: 'team_member_model_budget',
  spec: 'litellm-auth.md §4 step 4.3 [newer]',
  statuses: [400],
  errorTypes: ['budget_exceeded'],
  decide: (ctx) => {
    const counters = gatedTeamMemberModelCounters(ctx.snapshot, ctx.request);
    if (counters.length === 0 || areBudgetChecksSkipped(ctx)) return null;
    const limits = teamMemberModelLimitsOf(ctx.snapshot) ?? {};
    for (const { userId, teamId, model } of counters) {
      const maxBudget = memberModelMaxBudget(limits, model) ?? 0;
      const spend = ctx.snapshot.teamMemberModelSpend?.get(model) ?? 0;
      if (!(spend >= maxBudget)) continue;
      return budgetExceeded(
        `ExceededBudget: Team member model budget exceeded. User=${userId}, Team=${teamId}, Model=${model}. ` +
          `Spend=$${pyFixed(spend, 6)}, Budget=$${pyFixed(maxBudget, 6)}`,
      );
    }
    return null;
  },
};
