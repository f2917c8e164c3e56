/**
 * LiteLLM's rpm / tpm limits, read from the same rows as the budgets. LiteLLM enforces them in its
 * parallel request limiter hook, after authentication; Tollgate does it right after the checks.
 * Pure: what applies is decided here, counting happens in Redis (admission.ts).
 *
 * The descriptors and their order follow the newest v3 limiter
 * (`_PROXY_MaxParallelRequestsHandler_v3._create_rate_limit_descriptors`, then
 * `_add_team_model_rate_limit_descriptor_from_metadata`, `_add_project_model_rate_limit_descriptor_from_metadata`
 * and `create_organization_rate_limit_descriptor`): key, user, team, team member, end user, the
 * key per model, the team per model, the agent (the key's, else the one the request names), that
 * agent's session, the project per model, the organization, the organization per model. The 429 names the first rpm limit crossed
 * in that order, else the first tpm limit crossed: v3 checks every rpm limit before it reserves
 * tokens against the tpm limits.
 */
import { createHash } from 'node:crypto';
import { chainIdFromHeaders } from '../checks/agent-trace-id';
import { isJsonObject } from '../checks/context';
import { pyStr } from '../checks/python-format';
import { LITELLM_METADATA_ROUTES } from '../checks/pre-auth-tags';
import { metadataAsObject } from '../checks/request-metadata';
import type { Snapshot } from '../checks/types';
import type { Agent, Json, JsonObject } from '../domain/entities';
import { UNREAD_MODEL, type RequestFacts } from '../domain/request';
import { isTruthy } from '../domain/truthiness';
import type { RateTarget, SpendTarget } from '../spend/targets';
import { rateTargetName, uriPart } from '../spend/targets';
import { hasOwnKeys } from '../util/own-keys';
import { isWellFormed, wellFormed } from '../util/well-formed';
import type { Policy } from '../config/policy';
import { deploymentDefaultModelLimits, keylessCallerWindow, keylessDefaultRpmLimits } from './deployment-default-limits';
import { limiterModelOf } from './limiter-model';

export type RateMetric = 'rpm' | 'tpm';

/**
 * Who is limited, as the 429 message names it: the classic limiter's type names for the four it
 * shares with v3 (`customer` is v3's `end_user`), v3's descriptor keys for the others.
 */
export type RateLimitType =
  | 'key'
  | 'user'
  | 'team'
  | 'team_member'
  | 'customer'
  | 'model_per_key'
  | 'model_per_team'
  | 'model_per_project'
  | 'organization'
  | 'model_per_organization'
  | 'agent'
  | 'agent_session';

export interface RateLimit {
  readonly target: RateTarget;
  readonly type: RateLimitType;
  readonly metric: RateMetric;
  readonly limit: number;
  /** The requested model a per-model limit counts (its own window); absent or null for the entity's overall limit. */
  readonly model?: string | null;
}

/**
 * `budget_throttle.throttled_limit`: a limit scaled to `share` of itself, at least 1 so a key
 * throttled over its budget is slowed, not locked out; no limit or no share leaves it as it is.
 */
export function throttledLimit(limit: number | null, share: number | null): number | null {
  if (limit === null || share === null) return limit;
  return Math.max(1, Math.floor(limit * share));
}

/**
 * Every limit that applies to this request, in the v3 limiter's order; a null limit is unlimited
 * (a 0 limit admits nothing, as in LiteLLM). Runs on every Check, and most entities have no limits:
 * nothing is built for those. `model` is the request's model as sent; per-model limits match the
 * model v3 reads (`data["model"]`), which is that name after LiteLLM rewrote it through the team's,
 * the key's and `model_alias_map`'s aliases (limiterModelOf), by exact name, not its model group
 * or deployment.
 * Unlike v3, which matches no limit then, a request naming several models (`"gpt-4o,gpt-4o-mini"`,
 * which LiteLLM's router fans out to each) counts against each one's limits, and one whose body was
 * cut before its model (UNREAD_MODEL) against every per-model limit that applies to the caller:
 * otherwise a comma or padding past Envoy's limit would take a request out of its model's limit.
 * `request` is read for the handler's own `model` parameter, which replaces the body's on some
 * routes (limiterModelOf), and, only when the snapshot holds an agent, for the agent it names (limitedAgentOf)
 * and the session id of an agent with a session limit (agentSessionIdOf). `keyThrottle` scales the
 * key's own limits (v3's `api_key` descriptor only) for a key throttled over its budget
 * (checks/key-budget.ts keyBudgetThrottle). `policy` gives the deployments' default per-key limits
 * (deployment-default-limits.ts), to keys and to key-less JWT callers; without it, none apply.
 */
export function rateLimitsOf(
  snapshot: Snapshot,
  model: RequestFacts['model'] = null,
  request: AgentSource | null = null,
  keyThrottle: number | null = null,
  policy: Policy | null = null,
): RateLimit[] {
  const { key, user, team, membership, endUser, project, organization } = snapshot;
  const out: RateLimit[] = [];
  const limitedModel = limiterModelOf(snapshot, model, policy, request);
  // Every entity is looked at on every warm Check and most set no limit: a target is built only for one that does.
  if (key !== null && limited(key.rpm_limit, key.tpm_limit)) {
    addLimits(out, { kind: 'key', id: key.token }, 'key', throttledLimit(key.rpm_limit, keyThrottle), throttledLimit(key.tpm_limit, keyThrottle));
  }
  if (user !== null && limited(user.rpm_limit, user.tpm_limit)) addLimits(out, { kind: 'user', id: user.user_id }, 'user', user.rpm_limit, user.tpm_limit);
  if (team !== null && limited(team.rpm_limit, team.tpm_limit)) addLimits(out, { kind: 'team', id: team.team_id }, 'team', team.rpm_limit, team.tpm_limit);
  // LiteLLM's team_member_rpm/tpm_limit: the membership's budget row (LiteLLM_TeamMembership.budget_id).
  if (membership !== null && membership.budget !== null && limited(membership.budget.rpm_limit, membership.budget.tpm_limit)) {
    const target: SpendTarget = { kind: 'team_member', id: membership.user_id, teamId: membership.team_id };
    addLimits(out, target, 'team_member', membership.budget.rpm_limit, membership.budget.tpm_limit);
  }
  if (endUser !== null && endUser.budget !== null) {
    if (limited(endUser.budget.rpm_limit, endUser.budget.tpm_limit)) addLimits(out, { kind: 'end_user', id: endUser.user_id }, 'customer', endUser.budget.rpm_limit, endUser.budget.tpm_limit);
  } else if (snapshot.unknownEndUser !== undefined) {
    const { user_id: id, budget } = snapshot.unknownEndUser;
    addLimits(out, { kind: 'end_user', id }, 'customer', budget.rpm_limit, budget.tpm_limit);
  }
  if (limitedModel !== null) {
    if (key !== null) {
      const ownRpm = keyModelLimits(key.metadata, key.model_max_budget, team?.metadata, 'rpm');
      const ownTpm = keyModelLimits(key.metadata, key.model_max_budget, team?.metadata, 'tpm');
      const rpm = ownRpm !== undefined ? ownRpm : deploymentDefaultModelLimits(policy, limitedModel, 'rpm');
      const tpm = ownTpm !== undefined ? ownTpm : deploymentDefaultModelLimits(policy, limitedModel, 'tpm');
      if (rpm !== null || tpm !== null) addModelLimits(out, { kind: 'key', id: key.token }, 'model_per_key', rpm, tpm, limitedModel);
    } else if ((policy?.deploymentDefaultLimits ?? null) !== null && snapshot.jwtUserId !== undefined) {
      // A JWT caller without a key: v3 builds this descriptor for it too (keylessCallerWindow).
      const rpm = keylessDefaultRpmLimits(team?.metadata, policy, limitedModel);
      if (rpm !== null) addModelLimits(out, keylessCallerWindow(snapshot), 'model_per_key', rpm, null, limitedModel);
    }
    // v3 builds this descriptor twice (in _create_rate_limit_descriptors and again in
    // _add_team_model_rate_limit_descriptor_from_metadata), so its window counts every request
    // twice and the limit bites at half (LiteLLM issue #34140). Tollgate counts it once.
    if (team !== null && namesModelLimits(team.metadata)) addMetadataModelLimits(out, { kind: 'team', id: team.team_id }, 'model_per_team', team.metadata, limitedModel);
  }
  const agent = limitedAgentOf(snapshot, request);
  if (agent !== null) addAgentLimits(out, agent, request);
  if (limitedModel !== null) {
    if (project !== null && namesModelLimits(project.metadata)) addMetadataModelLimits(out, { kind: 'project', id: project.project_id }, 'model_per_project', project.metadata, limitedModel);
  }
  if (organization !== null && ((organization.budget !== null && limited(organization.budget.rpm_limit, organization.budget.tpm_limit)) || (limitedModel !== null && namesModelLimits(organization.metadata)))) {
    // LiteLLM's organization_rpm/tpm_limit: the organization's budget row.
    const target: SpendTarget = { kind: 'organization', id: organization.organization_id };
    if (organization.budget !== null) addLimits(out, target, 'organization', organization.budget.rpm_limit, organization.budget.tpm_limit);
    if (limitedModel !== null) addMetadataModelLimits(out, target, 'model_per_organization', organization.metadata, limitedModel);
  }
  return out;
}

/** The request facts an agent's session id is read from. */
export type SessionSource = Pick<RequestFacts, 'headers' | 'body' | 'sentBody'>;

/** The request facts the agent a request names, and its session, are read from. */
export type AgentSource = SessionSource & Pick<RequestFacts, 'route'>;

/**
 * The agent v3 limits (`_get_resolved_agent_id`): the key's (`user_api_key_dict.agent_id`), which
 * wins over one the request names (requestAgentIdOf). The snapshot holds the agent loaded for
 * that id (load-snapshot.ts); it applies only while it is the one the key or the request names.
 * The request is read only when the snapshot holds an agent and the key names none.
 */
export function limitedAgentOf(snapshot: Snapshot, request: AgentSource | null): Agent | null {
  const { key, agent } = snapshot;
  if (agent === null) return null;
  // A JWT caller has no key: only the agent its request names.
  const keyAgentId = key?.agent_id ?? null;
  if (namesAgent(keyAgentId)) return agent.agent_id === keyAgentId ? agent : null;
  return request !== null && requestAgentIdOf(request) === agent.agent_id ? agent : null;
}

/**
 * The agent whose token windows the response feeds (v3's `_collect_tpm_scope_targets` reads the
 * resolved `metadata.agent_id`): the key's, with or without a row; one the request names only
 * when its row exists, so that ids a caller makes up make no Redis keys.
 */
export function agentIdOf(snapshot: Snapshot, request: AgentSource): string | null {
  const keyAgentId = snapshot.key?.agent_id ?? null;
  if (namesAgent(keyAgentId)) return keyAgentId;
  return limitedAgentOf(snapshot, request)?.agent_id ?? null;
}

/** The agent to load for a key: its own (LiteLLM: `if key_agent_id:`), else the one the request names. */
export function agentIdToLoad(keyAgentId: string | null, request: AgentSource): string | null {
  return namesAgent(keyAgentId) ? keyAgentId : requestAgentIdOf(request);
}

function namesAgent(id: string | null): id is string {
  return id !== null && id !== '';
}

/** `LiteLLM_AgentsTable.agent_id` is VARCHAR(255): a longer id names no row. */
export const MAX_AGENT_ID_CHARS = 255;

const AGENT_ID_HEADER = 'x-litellm-agent-id';

/**
 * The agent a request names, as `data["metadata"]["agent_id"]` reaches v3's limiter after
 * LiteLLM's request setup (litellm_pre_call_utils.add_litellm_data_to_request):
 *
 * - On routes whose metadata is `litellm_metadata` (`_get_metadata_variable_name`: a path holding
 *   `thread`, `assistant`, `batches`, `/v1/messages`, `responses` or `files`) the header and the
 *   body's `litellm_metadata` go there, which the limiter does not read: only the body's own
 *   `metadata.agent_id` names one.
 * - Elsewhere the `x-litellm-agent-id` header (when not empty) is written over the body's
 *   `metadata.agent_id`, but only into a metadata dict: metadata sent as a JSON string is parsed
 *   after that, and the header is lost. Then `litellm_metadata.agent_id` is merged in when the
 *   metadata has no `agent_id` key at all (a null there stays).
 *
 * The body is the one sent, as for the session (agentSessionIdOf). Only a non-empty string can
 * equal a registry id. One longer than MAX_AGENT_ID_CHARS code points, or holding half a
 * surrogate pair (no UTF-8 column stores it), names no row and is not looked up. Null when none is
 * named: most requests, which cost a header lookup and two own-property reads.
 */
export function requestAgentIdOf(request: AgentSource): string | null {
  const header = request.headers[AGENT_ID_HEADER];
  const body = request.sentBody === undefined ? request.body : request.sentBody;
  const metadata = body !== null && Object.hasOwn(body, 'metadata') ? body.metadata : undefined;
  const litellmMetadata = body !== null && Object.hasOwn(body, 'litellm_metadata') ? body.litellm_metadata : undefined;
  if (header === undefined && metadata === undefined && litellmMetadata === undefined) return null;
  if (usesLitellmMetadata(request.route)) return rowIdOf(metadataAsObject(metadata)?.agent_id);
  const metadataIsDict = metadata === undefined || metadata === null || isJsonObject(metadata);
  if (header !== undefined && header !== '' && metadataIsDict) return rowIdOf(header);
  const own = metadataAsObject(metadata);
  if (own !== null && Object.hasOwn(own, 'agent_id')) return rowIdOf(own.agent_id);
  // Metadata that is neither absent nor a dict makes LiteLLM's setup fail before any limit.
  if (own === null && metadata !== undefined && metadata !== null) return null;
  return rowIdOf(metadataAsObject(litellmMetadata)?.agent_id);
}

/** The assistants API's (a path holding thread or assistant), then `LITELLM_METADATA_ROUTES`, bedrock's included. */
const LITELLM_METADATA_ROUTE_PARTS: readonly string[] = Object.freeze(['thread', 'assistant', ...LITELLM_METADATA_ROUTES]);

/** LiteLLM's `_get_metadata_variable_name` is `litellm_metadata` on this route (else `metadata`). */
export function usesLitellmMetadata(route: string): boolean {
  return LITELLM_METADATA_ROUTE_PARTS.some((part) => route.includes(part));
}

/** The id as a row could hold it, else null. */
function rowIdOf(value: Json | undefined): string | null {
  if (typeof value !== 'string' || value === '') return null;
  // VARCHAR counts code points: up to 255 UTF-16 units always fit, over 510 never do.
  if (value.length > MAX_AGENT_ID_CHARS && (value.length > 2 * MAX_AGENT_ID_CHARS || [...value].length > MAX_AGENT_ID_CHARS)) return null;
  return isWellFormed(value) ? value : null;
}

/**
 * v3's `_create_agent_rate_limit_descriptors`: the agent's rpm_limit / tpm_limit over all its
 * sessions, then session_rpm_limit / session_tpm_limit over one session, when the request names
 * one. A row cached by an earlier version has no limit fields: unlimited, as NULL is.
 */
function addAgentLimits(out: RateLimit[], agent: Agent, request: SessionSource | null): void {
  const rpm = agent.rpm_limit ?? null;
  const tpm = agent.tpm_limit ?? null;
  if (limited(rpm, tpm)) addLimits(out, { kind: 'agent', id: agent.agent_id }, 'agent', rpm, tpm);
  const sessionRpm = agent.session_rpm_limit ?? null;
  const sessionTpm = agent.session_tpm_limit ?? null;
  if (!limited(sessionRpm, sessionTpm) || request === null) return;
  const sessionId = agentSessionIdOf(request);
  if (sessionId !== null) addLimits(out, { kind: 'agent_session', id: agent.agent_id, sessionId }, 'agent_session', sessionRpm, sessionTpm);
}

/**
 * The session an agent's request belongs to, as v3's `_get_session_id_from_data` finds it after
 * LiteLLM's request setup: `litellm_session_id`, which the proxy sets from the chain-id headers
 * (`x-litellm-trace-id`, `x-litellm-session-id`, a vendor `x-…-session-id`) over the body's own,
 * then the body's `metadata.session_id`, then `litellm_metadata.session_id`; the first truthy one,
 * through str(). The body is the one sent: the query's and path's parameters reach LiteLLM's auth
 * checks only, not the limiter's `data`. Metadata sent as a JSON string (multipart) is read as the
 * proxy parses it. Null when none names one: only the agent-wide limits then apply.
 *
 * What is returned names the session's window (sessionKeyOf): it is the same at admission and in
 * the metadata the response is settled from, so both reach one bucket.
 */
export function agentSessionIdOf(request: SessionSource): string | null {
  const fromHeaders = chainIdFromHeaders(request.headers);
  if (fromHeaders !== null) return sessionKeyOf(fromHeaders);
  const body = request.sentBody === undefined ? request.body : request.sentBody;
  if (body === null) return null;
  const own = body.litellm_session_id;
  if (isTruthy(own)) return sessionKeyOf(pyStr(own as Json));
  for (const container of ['metadata', 'litellm_metadata'] as const) {
    const session = metadataAsObject(body[container])?.session_id;
    if (isTruthy(session)) return sessionKeyOf(pyStr(session as Json));
  }
  return null;
}

/** Session ids up to this many UTF-16 units name their window as they are; longer ones by a digest. */
export const MAX_SESSION_ID_CHARS = 64;

/**
 * A session id as the caller chose it, made fit for a Redis key and the ext_authz metadata. The
 * caller chooses its length: a header of tens of KiB or a body field of up to Envoy's 1 MiB,
 * URI-encoded (up to 9 bytes a character) into four bucket keys, the reservation, the metadata
 * and the spend event of every request. Beyond MAX_SESSION_ID_CHARS it is named by its SHA-256
 * (`sha256:<hex>`, 71 characters: longer than any id kept as it is, so no id sent can name
 * another's window). Half a surrogate pair becomes U+FFFD first, as in every key
 * (targets.ts uriPart): sent as is in the metadata it would be invalid UTF-8, which a protobuf
 * string field may not hold.
 */
export function sessionKeyOf(id: string): string {
  const text = wellFormed(id);
  return text.length <= MAX_SESSION_ID_CHARS ? text : `sha256:${createHash('sha256').update(text, 'utf8').digest('hex')}`;
}

function limited(rpm: number | null, tpm: number | null): boolean {
  return rpm !== null || tpm !== null;
}

function namesModelLimits(metadata: JsonObject): boolean {
  return Object.hasOwn(metadata, 'model_rpm_limit') || Object.hasOwn(metadata, 'model_tpm_limit');
}

function addLimits(
  out: RateLimit[],
  target: RateTarget,
  type: RateLimitType,
  rpm: number | null,
  tpm: number | null,
  model: string | null = null,
): void {
  if (rpm !== null) out.push({ target, type, metric: 'rpm', limit: rpm, model });
  if (tpm !== null) out.push({ target, type, metric: 'tpm', limit: tpm, model });
}

/** `{model: limit}` as LiteLLM stores it in metadata; null when there is none. */
type ModelLimits = Readonly<Record<string, Json>> | null;

/**
 * LiteLLM's get_key_model_rpm_limit / get_key_model_tpm_limit (newest auth_utils.py): the first
 * source that has any — the key's `metadata.model_rpm_limit` (when non-empty), else the `rpm_limit`
 * of the key's model_max_budget entries (when any has one), else the team's
 * `metadata.model_rpm_limit`. rpm and tpm are looked up separately. Undefined when none of the
 * three is there: only then does the fourth, the deployments' default, apply. A source that is
 * there but limits nothing (the team's `{}`, a value that is not a map) still ends the lookup, as
 * in LiteLLM, where the key's own map must be non-empty to count.
 */
function keyModelLimits(
  keyMetadata: JsonObject,
  modelMaxBudget: JsonObject,
  teamMetadata: JsonObject | undefined,
  metric: RateMetric,
): ModelLimits | undefined {
  // Names built once: this runs twice on every warm Check, and most keys set none of them.
  const field = metric === 'rpm' ? 'model_rpm_limit' : 'model_tpm_limit';
  const own = keyMetadata[field];
  if (pyTruthy(own)) return asLimits(own);
  let perModel: Record<string, Json> | null = null;
  if (hasOwnKeys(modelMaxBudget)) {
    const budgetField = metric === 'rpm' ? 'rpm_limit' : 'tpm_limit';
    for (const name of Object.keys(modelMaxBudget)) {
      const budget = modelMaxBudget[name];
      const limit = isObject(budget) ? budget[budgetField] : undefined;
      if (limit !== undefined && limit !== null) (perModel ??= {})[name] = limit;
    }
  }
  if (perModel !== null) return perModel;
  const team = teamMetadata?.[field];
  return team === undefined || team === null ? undefined : asLimits(team);
}

/** A `model_per_team` / `_project` / `_organization` descriptor from that row's metadata. */
function addMetadataModelLimits(out: RateLimit[], target: SpendTarget, type: RateLimitType, metadata: JsonObject, model: Requested): void {
  addModelLimits(out, target, type, asLimits(metadata.model_rpm_limit ?? null), asLimits(metadata.model_tpm_limit ?? null), model);
}

type Requested = NonNullable<RequestFacts['model']>;

/**
 * One descriptor per requested model the maps limit: the model named, each of a list, or for an
 * unread model every model either map names. Only models with a limit make a descriptor, so a list
 * of thousands of names makes no more Redis keys than the operator configured.
 */
function addModelLimits(out: RateLimit[], target: SpendTarget, type: RateLimitType, rpm: ModelLimits, tpm: ModelLimits, model: Requested): void {
  if (rpm === null && tpm === null) return;
  if (typeof model === 'string' && model !== UNREAD_MODEL) {
    addLimits(out, target, type, modelLimit(rpm, model), modelLimit(tpm, model), model);
    return;
  }
  const names = typeof model === 'string' ? new Set([...Object.keys(rpm ?? {}), ...Object.keys(tpm ?? {})]) : model;
  for (const name of names) addLimits(out, target, type, modelLimit(rpm, name), modelLimit(tpm, name), name);
}

/**
 * The limit a `{model: limit}` map sets for the model, null when none. LiteLLM passes the value
 * through int(): a fraction is truncated. A value int() cannot read (text, a list) makes LiteLLM's
 * hook raise; Tollgate reads it as no limit, as it does a map that is not an object.
 */
function modelLimit(limits: ModelLimits, model: string): number | null {
  if (limits === null || !Object.hasOwn(limits, model)) return null;
  const value = limits[model];
  if (typeof value === 'boolean') return value ? 1 : 0;
  return typeof value === 'number' && Number.isFinite(value) ? Math.trunc(value) : null;
}

function asLimits(value: Json): ModelLimits {
  return isObject(value) ? value : null;
}

function isObject(value: Json | undefined): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Python's truthiness of a JSON value (LiteLLM's `if result:`). */
function pyTruthy(value: Json | undefined): boolean {
  if (value === undefined || value === null || value === false || value === 0 || value === '') return false;
  if (Array.isArray(value)) return value.length > 0;
  return typeof value !== 'object' || Object.keys(value).length > 0;
}

/**
 * The entities whose token windows a metered response feeds (tpm is counted for all, limited or
 * not): the agent scopes when the response carries the agent (agentIdOf) and its session.
 */
export const TOKEN_COUNTED_KINDS: ReadonlySet<RateTarget['kind']> = new Set(['key', 'user', 'team', 'team_member', 'organization', 'end_user', 'agent', 'agent_session']);

/** The entities with per-model token windows (fed with the response's requested model). */
export const MODEL_TOKEN_COUNTED_KINDS: ReadonlySet<RateTarget['kind']> = new Set(['key', 'team', 'project', 'organization']);

/** The minute a sliding window bucket covers. */
export function minuteOf(nowMs: number): number {
  return Math.floor(nowMs / 60_000);
}

/**
 * `<prefix>rl:<target>:<rpm|tpm>:<minute>`, or `<prefix>rl:<target>:model:<model>:<rpm|tpm>:<minute>`
 * for a per-model window: one bucket per entity, model, metric and minute (TTL two minutes).
 */
export function rateBucketKey(prefix: string, target: RateTarget, metric: RateMetric, minute: number, model: string | null = null): string {
  const subject = model === null ? rateTargetName(target) : `${rateTargetName(target)}:model:${uriPart(model)}`;
  return `${prefix}rl:${subject}:${metric}:${minute}`;
}

/** Buckets outlive the window they are read in (current + previous minute). */
export const RATE_BUCKET_TTL_MS = 120_000;
