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

/**
 * `int(max_iterations)`: a number (a fraction truncated, as Python's int() does), or a text of an
 * integer. Anything else caps nothing: LiteLLM's hook would fail on it rather than cap.
 */
function iterationsOf(params: JsonObject): number | null {
  const value = params['max_iterations'];
  if (typeof value === 'number') return Number.isFinite(value) ? Math.trunc(value) : null;
  if (typeof value === 'boolean') return value ? 1 : 0;
  if (typeof value === 'string' && /^\s*[+-]?\d+\s*$/.test(value)) return Number.parseInt(value, 10);
  return null;
}

/** `float(max_budget_per_session)`: a finite number, or a text of one. */
function budgetOf(params: JsonObject): number | null {
  const value = params['max_budget_per_session'];
  if (typeof value === 'number') return Number.isFinite(value) ? value : null;
  if (typeof value === 'string' && value.trim() !== '') {
    const parsed = Number(value.trim());
    return Number.isFinite(parsed) ? parsed : null;
  }
  return null;
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
