/**
 * Newer LiteLLM's agent iteration budgets (`max_iterations_limiter.py`,
 * `max_budget_per_session_limiter.py`): an agent's `litellm_params` may cap each of its sessions
 * at `max_iterations` LLM calls and at `max_budget_per_session` dollars. They guard agentic loops
 * that would otherwise call without end; LiteLLM answers 429 once a session has made its calls or
 * spent its budget.
 *
 * The agent is the key's (`user_api_key_dict.agent_id`, as both hooks read it, and as the trace-id
 * requirement of checks/agent-trace-id.ts does); the session is the request's, as both hooks read
 * it (capsSessionIdOf: a chain-id header's, else the body's metadata's session id when set at
 * all; on the routes whose metadata LiteLLM keeps in `litellm_metadata`, the body's
 * `metadata.session_id` before the header's), which may differ from the one the agent's session
 * rate limits read (rate-limits.ts agentSessionIdOf). Its spend is the one metering charges: the
 * admission metadata names it apart (`agent_budget_session_id`, spend/admission.ts). A request
 * without a session is not capped, as in LiteLLM.
 *
 * The call cap falls back, as LiteLLM's does, to the key's own `metadata.max_iterations` when the
 * key has no agent or its agent sets none; the spend cap has no such fallback (LiteLLM's hook reads
 * the agent's alone).
 *
 * Enforced at admission (spend/admission.ts), in the one atomic script that also takes rate limits
 * and budget reservations: LiteLLM reads then increments in separate steps, so concurrent calls of
 * one session could all pass a cap (BerriAI/litellm#34732). Each session's counters are also the
 * agent's own: LiteLLM keys them by session id alone, so two agents in one trace share them
 * (BerriAI/litellm#43190). A key's own cap without an agent is counted per key, where LiteLLM
 * counts the session id alone: the id is the caller's to choose, so any key naming another
 * tenant's session could spend that tenant's calls.
 */
import { chainIdFromHeaders } from '../checks/agent-trace-id';
import { isJsonObject } from '../checks/context';
import { pyFixed, pyStr } from '../checks/python-format';
import { metadataAsObject } from '../checks/request-metadata';
import type { Snapshot } from '../checks/types';
import type { JsonObject } from '../domain/entities';
import { sessionKeyOf, usesLitellmMetadata, type AgentSource } from './rate-limits';

/** An agent's caps, counted per agent and session; or a key's own max_iterations, counted per key and session. */
export type AgentSessionCaps =
  | (SessionCaps & { readonly agentId: string; readonly keyHash: null })
  | (SessionCaps & { readonly agentId: null; readonly keyHash: string; readonly maxBudget: null });

interface SessionCaps {
  /** As capsSessionIdOf names it (long ids by their digest). */
  readonly sessionId: string;
  /** Calls a session may make; null: not capped. */
  readonly maxIterations: number | null;
  /** Dollars a session may spend; null: not capped (always, for a key's own cap: LiteLLM reads no key setting). */
  readonly maxBudget: number | null;
}

/** Texts Python's int() and float() read as a decimal number (digits grouped by single underscores, as PEP 515 allows). */
const DIGITS = String.raw`\d+(?:_\d+)*`;
const INT_TEXT = new RegExp(String.raw`^\s*[+-]?${DIGITS}\s*$`);
const FLOAT_TEXT = new RegExp(String.raw`^\s*[+-]?(?:${DIGITS}(?:\.(?:${DIGITS})?)?|\.${DIGITS})(?:[eE][+-]?${DIGITS})?\s*$`);

/**
 * `int(max_iterations)`: a number (a fraction truncated, as Python's int() does), or a text of an
 * integer. Anything else caps nothing: LiteLLM's hook would fail on it rather than cap.
 */
function iterationsOf(params: JsonObject): number | null {
  const value = params['max_iterations'];
  if (typeof value === 'number') return Number.isFinite(value) ? Math.trunc(value) : null;
  if (typeof value === 'boolean') return value ? 1 : 0;
  if (typeof value === 'string' && INT_TEXT.test(value)) return finiteOrNull(Number.parseInt(value.replaceAll('_', ''), 10));
  return null;
}

/**
 * `float(max_budget_per_session)`: a finite number (a boolean 1 or 0), or a decimal text of one.
 * Number() would also read texts float() refuses (`0x10`, `0b1`) and refuse ones it reads (`1_000`).
 * `inf` and `nan` cap nothing, as in LiteLLM (no spend is `>=` them).
 */
function budgetOf(params: JsonObject): number | null {
  const value = params['max_budget_per_session'];
  if (typeof value === 'number') return Number.isFinite(value) ? value : null;
  if (typeof value === 'boolean') return value ? 1 : 0;
  if (typeof value === 'string' && FLOAT_TEXT.test(value)) return finiteOrNull(Number(value.trim().replaceAll('_', '')));
  return null;
}

/** A text past what a double holds (`1e999`) caps nothing: no count or spend reaches it, and Redis's Lua could not read it. */
function finiteOrNull(value: number): number | null {
  return Number.isFinite(value) ? value : null;
}

/** The caps the request's session is held to; null (no allocation) when none applies: most requests. */
export function agentSessionCapsOf(snapshot: Snapshot, request: AgentSource): AgentSessionCaps | null {
  const { key } = snapshot;
  if (key === null) return null;
  // An agent id with no row is still the counter's scope, as LiteLLM keys by the key's agent_id.
  const agent = key.agent_id !== null && snapshot.agent !== null && snapshot.agent.agent_id === key.agent_id ? snapshot.agent : null;
  const params = agent === null ? null : agent.litellm_params;
  // LiteLLM's fallback for keys made before agents: the key's metadata.max_iterations, when the
  // key has no agent or its agent sets none (null too). An agent value int() cannot read makes
  // LiteLLM's hook fail, not fall back: it caps nothing here.
  const iterationsSource = params !== null && namesCap(params, 'max_iterations') ? params : key.metadata;
  if (!namesCap(iterationsSource, 'max_iterations') && (params === null || !namesCap(params, 'max_budget_per_session'))) return null;
  const maxIterations = iterationsOf(iterationsSource);
  const sessionId = capsSessionIdOf(request);
  if (sessionId === null) return null;
  // max_budget_per_session has no such fallback: LiteLLM's hook reads the agent's alone.
  const maxBudget = params === null || !namesCap(params, 'max_budget_per_session') ? null : budgetOf(params);
  if (maxIterations === null && maxBudget === null) return null;
  // Without an agent LiteLLM counts the session id alone ({session_iterations:<id>}), shared by
  // every key that names it: a caller could then spend another tenant's session. Counted per key.
  if (key.agent_id === null) return { agentId: null, keyHash: key.token, sessionId, maxIterations, maxBudget: null };
  return { agentId: key.agent_id, keyHash: null, sessionId, maxIterations, maxBudget };
}

/**
 * The session both hooks read (`_get_session_id`): the body's `metadata.session_id`, else
 * `litellm_metadata.session_id`, the first that `is not None`, through str(). So an empty id, 0 or
 * false is a session (`''`, `'0'`, `'False'`), which the session rate limits, taking the first
 * truthy one, do not see. LiteLLM's request setup first writes a chain-id header's id over the
 * session_id of the route's own container (`litellm_metadata` where usesLitellmMetadata says so,
 * else `metadata`), when that container is a dict or absent: on a `litellm_metadata` route the
 * body's `metadata.session_id` is read before it, as the hooks read `metadata` first. A container
 * sent as a JSON string (multipart) is parsed only after that write, which it misses: its own
 * session_id stands. The body's own `litellm_session_id`, which the rate limits read first, is
 * copied nowhere the hooks look, so it names no session here. Named as the rate limits name a
 * session (sessionKeyOf: a long id by its digest), so that an id both read is one name.
 */
function capsSessionIdOf(request: AgentSource): string | null {
  const header = chainIdFromHeaders(request.headers);
  const headerContainer = header === null ? null : usesLitellmMetadata(request.route) ? 'litellm_metadata' : 'metadata';
  const body = request.sentBody === undefined ? request.body : request.sentBody;
  for (const container of ['metadata', 'litellm_metadata'] as const) {
    const value = body === null ? undefined : body[container];
    if (header !== null && container === headerContainer && (value === undefined || value === null || isJsonObject(value))) return sessionKeyOf(header);
    const session = metadataAsObject(value)?.session_id;
    if (session !== undefined && session !== null) return sessionKeyOf(pyStr(session));
  }
  return null;
}

/** Set, as LiteLLM's `.get(name) is not None` reads it (JSON null is None). */
function namesCap(params: JsonObject, name: string): boolean {
  const value = params[name];
  return value !== undefined && value !== null;
}

/** LiteLLM's 429 texts (HTTPException detail). */
export function iterationsExceededMessage(sessionId: string, count: number, maxIterations: number): string {
  return `Max iterations exceeded for session ${sessionId}. Current count: ${count}, max_iterations: ${maxIterations}.`;
}

export function sessionBudgetExceededMessage(sessionId: string, spend: number, maxBudget: number): string {
  return `Session budget exceeded for session ${sessionId}. Current spend: $${pyFixed(spend, 4)}, max_budget_per_session: $${pyFixed(maxBudget, 2)}.`;
}
