/**
 * Which team a JWT acts for (litellm-auth.md §3.3 step 7), first rule that applies:
 *   a. the `x-litellm-team-id` header, which must name one of the token's teams;
 *   b. the token's own team: `object_id_jwt_field` for a TEAM token, the team id claim (or
 *      `team_id_default`), or the team alias claim;
 *   c. the first group team (`team_ids_jwt_field`) that may call the requested model and route.
 * A team named explicitly (a, b) must exist, unless `team_id_upsert` creates it.
 */
import { authErrorFromException, authErrorFromHttpException, authErrorFromHttpExceptionDict } from '../../checks/errors';
import { pyList, pyRepr } from '../../checks/python-format';
import { canTeamCallModel } from '../../checks/team-model-access';
import type { CheckContext, Denial } from '../../checks/types';
import type { Policy } from '../../config/policy';
import type { AccessGroup, Team } from '../../domain/entities';
import type { RequestFacts } from '../../domain/request';
import { EMPTY_SNAPSHOT } from '../../snapshot/load-snapshot';
import type { AuthStore } from '../../store/auth-store';
import { accessGroupsOf, teamOf } from '../../store/memory-first';
import { andThen, isPromise, type MaybePromise } from '../../util/maybe-promise';
import type { JwtDirectory } from '../../store/jwt-directory';
import type { ClaimIdentity } from './claim-identity';
import { teamMayCallRoute } from './role-policy';
import type { JwtSettings } from './settings';

export interface JwtLookups {
  readonly store: AuthStore;
  readonly directory: JwtDirectory;
  readonly settings: JwtSettings;
  readonly policy: Policy;
  readonly now: Date;
}

export type TeamSelection =
  | { readonly kind: 'selected'; readonly team: Team | null }
  | { readonly kind: 'refused'; readonly denial: Denial };

const TEAM_ID_HEADER = 'x-litellm-team-id';

function refused(denial: Denial): TeamSelection {
  return { kind: 'refused', denial };
}

/** Python `str(set_of_str)`: `{'a', 'b'}`, or `set()` when empty. */
function pySet(items: readonly string[]): string {
  return items.length === 0 ? 'set()' : `{${items.map(pyRepr).join(', ')}}`;
}

/** `get_team_object(team_id, team_id_upsert)`: a missing team is LiteLLM's 404. */
function namedTeam(lookups: JwtLookups, teamId: string, upsert: boolean): MaybePromise<TeamSelection> {
  return andThen(teamOf(lookups.store, teamId), (found) => {
    if (found !== null) return { kind: 'selected', team: found };
    // Null: the id names another team's row under MariaDB's collation, and cannot have its own.
    if (upsert) return lookups.directory.upsertTeam(teamId).then((team) => (team === null ? teamMissing(teamId) : { kind: 'selected', team }));
    return teamMissing(teamId);
  });
}

function teamMissing(teamId: string): TeamSelection {
  return refused(authErrorFromHttpExceptionDict(404, { error: `Team doesn't exist in db. Team=${teamId}. Create team via \`/team/new\` call.` }));
}

/** `get_team_object_by_alias`: the alias must name exactly one team. */
function teamByAlias(lookups: JwtLookups, alias: string): MaybePromise<TeamSelection> {
  return andThen(lookups.directory.teamIdsWithAlias(alias), (ids) => {
    if (ids.length > 1) {
      return refused(
        authErrorFromHttpExceptionDict(400, {
          error: `Multiple teams found with alias '${alias}'. Please use team_id_jwt_field instead or ensure team aliases are unique.`,
        }),
      );
    }
    return andThen(ids.length === 1 ? teamOf(lookups.store, ids[0] as string) : null, (team) => {
      if (team !== null) return { kind: 'selected', team };
      return refused(
        authErrorFromHttpExceptionDict(404, {
          error: `Team with alias '${alias}' doesn't exist in db. Create team via \`/team/new\` call.`,
        }),
      );
    });
  });
}

/** §3.3 7b: the specific team. With neither claim present and a field configured → 401. */
function specificTeam(lookups: JwtLookups, identity: ClaimIdentity): MaybePromise<TeamSelection> | null {
  const { settings } = lookups;
  const fields = settings.fields;
  // A team_id_default would mask a team the token names by alias: the alias wins (newer LiteLLM).
  const aliasWins = identity.teamAlias !== null && identity.specificTeamIdIsDefault && identity.groupTeamIds.length === 0;
  // Never looked up nor upserted: LiteLLM's lookup fails on such a value before any write.
  if (identity.unreadableTeamId !== null) return teamMissing(identity.unreadableTeamId);
  if (identity.specificTeamId !== null && !aliasWins) {
    return namedTeam(lookups, identity.specificTeamId, settings.teamIdUpsert);
  }
  if (identity.teamAlias !== null) return teamByAlias(lookups, identity.teamAlias);
  if (fields.teamAlias !== null) {
    return refused(
      authErrorFromException(
        `No team found in token. Checked team_id field '${fields.teamId ?? 'None'}' and team_alias field '${fields.teamAlias}'.`,
      ),
    );
  }
  if (fields.teamId !== null) {
    return refused(authErrorFromException(`No team id found in token. Checked team_id field '${fields.teamId}'`));
  }
  return null;
}

/** The check context a candidate team's model access is judged in (its DB access groups loaded). */
function candidateContext(lookups: JwtLookups, facts: RequestFacts, team: Team, groups: readonly AccessGroup[]): CheckContext {
  return {
    request: facts,
    snapshot: { ...EMPTY_SNAPSHOT, team, accessGroups: new Map(groups.map((g) => [g.access_group_id, g])) },
    policy: lookups.policy,
    now: lookups.now,
    keyHash: null,
  };
}

/** `find_team_with_model_access`. Unknown teams are skipped, as LiteLLM skips their lookup errors. */
function groupTeam(lookups: JwtLookups, identity: ClaimIdentity, facts: RequestFacts): MaybePromise<TeamSelection> {
  const teamIds = identity.groupTeamIds;
  if (teamIds.length === 0) {
    if (!lookups.settings.enforceTeamBasedModelAccess) return { kind: 'selected', team: null };
    return refused(
      authErrorFromHttpException(
        403,
        'No teams found in token. `enforce_team_based_model_access` is set to True. Token must belong to a team.',
      ),
    );
  }
  return firstGroupTeamFrom(lookups, teamIds, facts, 0);
}

/**
 * The first of `teamIds` from `index` on that may call the model and route. A loop while the teams
 * are in memory (a token may list thousands of groups: no recursion per team), a promise from the
 * first one that is not.
 */
function firstGroupTeamFrom(lookups: JwtLookups, teamIds: readonly string[], facts: RequestFacts, index: number): MaybePromise<TeamSelection> {
  for (let i = index; i < teamIds.length; i += 1) {
    const qualified = andThen(teamOf(lookups.store, teamIds[i] as string), (team) => (team === null ? null : qualifying(lookups, facts, team)));
    if (isPromise(qualified)) {
      return qualified.then((team) => (team !== null ? { kind: 'selected', team } : firstGroupTeamFrom(lookups, teamIds, facts, i + 1)));
    }
    if (qualified !== null) return { kind: 'selected', team: qualified };
  }
  return noGroupTeam(teamIds, facts);
}

/** `team` when it may call the requested model (judged with its DB access groups) and route, else null. */
function qualifying(lookups: JwtLookups, facts: RequestFacts, team: Team): MaybePromise<Team | null> {
  if (!teamMayCallRoute(lookups.settings, facts.route)) return null;
  const model = facts.model;
  // LiteLLM's seed forgot to await this model test; the fixed version (and the issue) filters on it.
  if (model === null) return team;
  const ids = team.access_group_ids;
  return andThen(ids.length > 0 ? accessGroupsOf(lookups.store, ids) : NO_GROUPS, (groups) =>
    canTeamCallModel(candidateContext(lookups, facts, team, groups), team, model) === null ? team : null,
  );
}

function noGroupTeam(teamIds: readonly string[], facts: RequestFacts): TeamSelection {
  const model = facts.model;
  if (model === null) return { kind: 'selected', team: null };
  const tried = typeof model === 'string' ? model : pyList(model);
  return refused(
    authErrorFromHttpException(
      403,
      `No team has access to the requested model: ${tried}. Checked teams=${pySet(teamIds)}. Check \`/models\` to see all available models.`,
    ),
  );
}

const NO_GROUPS: readonly AccessGroup[] = Object.freeze([]);

/**
 * The team the caller acts for, decided at once when every team it reads is in memory (a warm
 * caller), else as a promise.
 */
export function selectTeam(lookups: JwtLookups, identity: ClaimIdentity, facts: RequestFacts): MaybePromise<TeamSelection> {
  const header = facts.headers[TEAM_ID_HEADER]?.trim() ?? '';
  if (header !== '') {
    if (!identity.allowedTeamIds.includes(header)) {
      return refused(
        authErrorFromHttpException(
          403,
          `Team '${header}' from x-litellm-team-id header is not in your JWT's allowed teams. Allowed teams: ${pyList(identity.allowedTeamIds)}`,
        ),
      );
    }
    return namedTeam(lookups, header, lookups.settings.teamIdUpsert);
  }
  // LiteLLM sets team_id from the object id but never loads that team, skipping every team check;
  // Tollgate loads it like any named team so its budget and models still apply.
  if (identity.objectTeamId !== null) return namedTeam(lookups, identity.objectTeamId, lookups.settings.teamIdUpsert);
  return specificTeam(lookups, identity) ?? groupTeam(lookups, identity, facts);
}
