/**
 * The team a key names when its row is gone (litellm-auth.md §2.7 step 9).
 *
 * LiteLLM does not refuse such a key: when `get_team_object` answers 404 it builds the team from
 * the key's joined `team_*` columns, which for a missing row are all empty. That team still has
 * an id, so the checks that apply only to keys without a team (the personal user budget, the
 * user's model list) stay off, and the team's own checks find nothing to refuse: no budget, no
 * models (every model), not blocked.
 */
import type { Team, VirtualKey } from '../domain/entities';

const NO_MODELS: readonly string[] = Object.freeze([]);

/** One per key object, so a cached key keeps answering with the same team. */
const standIns = new WeakMap<VirtualKey, Team>();

export function teamOfKey(key: VirtualKey, team: Team | null): Team | null {
  if (team !== null || key.team_id === null) return team;
  let standIn = standIns.get(key);
  if (standIn === undefined || standIn.team_id !== key.team_id) {
    standIn = Object.freeze({
      team_id: key.team_id,
      team_alias: null,
      organization_id: null,
      object_permission_id: null,
      metadata: Object.freeze({}),
      max_budget: null,
      soft_budget: null,
      spend: 0,
      models: NO_MODELS,
      blocked: false,
      tpm_limit: null,
      rpm_limit: null,
      access_group_ids: NO_MODELS,
      model_id: null,
      model_aliases: Object.freeze({}),
      budget_duration: null,
      budget_reset_at: null,
    });
    standIns.set(key, standIn);
  }
  return standIn;
}
