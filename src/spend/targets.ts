/**
 * The spend counters one request moves: LiteLLM's `update_database` charges the key, its user,
 * team, the user as a member of that team, the organization, the end user and each tag; newer
 * versions also the project. Each target names one LiteLLM row with a `spend` column.
 */
import { wellFormed } from '../util/well-formed';
import type { Attribution } from './spend-event';

export type SpendTargetKind = 'key' | 'user' | 'team' | 'team_member' | 'organization' | 'project' | 'end_user' | 'tag';

export interface SpendTarget {
  readonly kind: SpendTargetKind;
  readonly id: string;
  /** Only for `team_member`: the team (id is the user). */
  readonly teamId?: string;
}

/**
 * What a rate-limit window counts: a spend target, or one of the two v3 limiter scopes that have
 * no spend counter here: an agent (`agent`, its id) and one session of an agent (`agent_session`,
 * v3's value `agent_id:session_id`, kept as its two parts so that no pair of ids can name
 * another pair's window).
 */
export type RateTarget =
  | SpendTarget
  | { readonly kind: 'agent'; readonly id: string }
  | { readonly kind: 'agent_session'; readonly id: string; readonly sessionId: string };

/** The agent scopes a response's tokens feed (v3's `_collect_tpm_scope_targets`: `agent`, then `agent_session` when a session is known). */
export function agentTargetsOf(attribution: Attribution): RateTarget[] {
  const agentId = attribution.agentId ?? null;
  if (agentId === null) return [];
  const sessionId = attribution.agentSessionId ?? null;
  const agent: RateTarget = { kind: 'agent', id: agentId };
  return sessionId === null ? [agent] : [agent, { kind: 'agent_session', id: agentId, sessionId }];
}

export function targetsOf(attribution: Attribution): SpendTarget[] {
  const a = attribution;
  const targets: SpendTarget[] = [];
  if (a.keyHash !== null) targets.push({ kind: 'key', id: a.keyHash });
  if (a.userId !== null) targets.push({ kind: 'user', id: a.userId });
  if (a.teamId !== null) targets.push({ kind: 'team', id: a.teamId });
  if (a.userId !== null && a.teamId !== null) targets.push({ kind: 'team_member', id: a.userId, teamId: a.teamId });
  if (a.orgId !== null) targets.push({ kind: 'organization', id: a.orgId });
  if (a.projectId !== null) targets.push({ kind: 'project', id: a.projectId });
  if (a.endUserId !== null) targets.push({ kind: 'end_user', id: a.endUserId });
  for (const tag of new Set(a.chargedTags ?? a.tags)) targets.push({ kind: 'tag', id: tag });
  return targets;
}

/**
 * A stable text form: ids may contain any character, so each part is URI-encoded, after half a
 * surrogate pair (which a JSON body may send, and encodeURIComponent throws on) becomes U+FFFD.
 */
export function targetName(target: SpendTarget): string {
  const id = uriPart(target.id);
  return target.teamId === undefined ? `${target.kind}:${id}` : `${target.kind}:${id}:${uriPart(target.teamId)}`;
}

/** targetName for a rate-limit window: a spend target's name is unchanged, so its windows keep their keys. */
export function rateTargetName(target: RateTarget): string {
  if (target.kind === 'agent') return `agent:${uriPart(target.id)}`;
  if (target.kind === 'agent_session') return `agent_session:${uriPart(target.id)}:${uriPart(target.sessionId)}`;
  return targetName(target);
}

export function uriPart(text: string): string {
  return encodeURIComponent(wellFormed(text));
}
