/**
 * Newer LiteLLM's agent iteration budgets (`max_iterations_limiter.py`,
 * `max_budget_per_session_limiter.py`): an agent's `litellm_params` may cap each of its sessions
 * at `max_iterations` LLM calls and at `max_budget_per_session` dollars. They guard agentic loops
 * that would otherwise call without end; LiteLLM answers 429 once a session has made its calls or
 * spent its budget.
 *
 * The agent is the key's (`user_api_key_dict.agent_id`, as both hooks read it, and as the trace-id
 * requirement of checks/agent-trace-id.ts does); the session is the request's, as the agent's
 * session rate limits read it (rate-limits.ts agentSessionIdOf: the trace or session header, else
 * the body's session id). A request without a session is not capped, as in LiteLLM.
 *
 * Enforced at admission (spend/admission.ts), in the one atomic script that also takes rate limits
 * and budget reservations: LiteLLM reads then increments in separate steps, so concurrent calls of
 * one session could all pass a cap (BerriAI/litellm#34732). Each session's counters are also the
 * agent's own: LiteLLM keys them by session id alone, so two agents in one trace share them
 * (BerriAI/litellm#43190).
 */
import type { Snapshot } from '../checks/types';
import type { JsonObject } from '../domain/entities';
import { pyFixed } from '../checks/python-format';
import { agentSessionIdOf, type SessionSource } from './rate-limits';

export interface AgentSessionCaps {
  readonly agentId: string;
  /** As agentSessionIdOf names it (long ids by their digest). */
  readonly sessionId: string;
  /** Calls a session may make; null: not capped. */
  readonly maxIterations: number | null;
  /** Dollars a session may spend; null: not capped. */
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
export function agentSessionCapsOf(snapshot: Snapshot, request: SessionSource): AgentSessionCaps | null {
  const { key, agent } = snapshot;
  if (agent === null || key === null || key.agent_id === null || key.agent_id !== agent.agent_id) return null;
  const params = agent.litellm_params;
  if (!Object.hasOwn(params, 'max_iterations') && !Object.hasOwn(params, 'max_budget_per_session')) return null;
  const maxIterations = iterationsOf(params);
  const maxBudget = budgetOf(params);
  if (maxIterations === null && maxBudget === null) return null;
  const sessionId = agentSessionIdOf(request);
  if (sessionId === null) return null;
  return { agentId: agent.agent_id, sessionId, maxIterations, maxBudget };
}

/** LiteLLM's 429 texts (HTTPException detail). */
export function iterationsExceededMessage(sessionId: string, count: number, maxIterations: number): string {
  return `Max iterations exceeded for session ${sessionId}. Current count: ${count}, max_iterations: ${maxIterations}.`;
}

export function sessionBudgetExceededMessage(sessionId: string, spend: number, maxBudget: number): string {
  return `Session budget exceeded for session ${sessionId}. Current spend: $${pyFixed(spend, 4)}, max_budget_per_session: $${pyFixed(maxBudget, 2)}.`;
}
