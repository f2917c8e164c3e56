/**
 * common_checks step 2a: a key acting for an agent whose `litellm_params` set
 * `require_trace_id_on_calls_by_agent` must send a trace id (400 bad_request_error, param null).
 *
 * The agent comes from LiteLLM_AgentsTable (LiteLLM reads it through its in-memory agent registry,
 * which also holds agents from config.yaml; Tollgate knows database agents only). An unknown agent
 * passes, as in LiteLLM.
 */
import type { Check } from './types';
import { deny } from './types';
import { isTruthy } from '../domain/truthiness';

const EXPLICIT_CHAIN_HEADERS = ['x-litellm-trace-id', 'x-litellm-session-id'];
const GENERIC_SESSION_HEADER = /^x-.+-session-id$/;
const SESSION_ID_VALUE = /^[a-zA-Z0-9_-]{8,}$/;

/**
 * `litellm_pre_call_utils.get_chain_id_from_headers` (newer version, chosen deliberately: the seed
 * era read only the two explicit headers, the newer one also accepts a vendor session header such
 * as `x-claude-code-session-id` with an id-like value). An empty value does not count.
 */
export function chainIdFromHeaders(headers: Readonly<Record<string, string>>): string | null {
  for (const name of EXPLICIT_CHAIN_HEADERS) {
    const value = headers[name];
    if (value !== undefined && value !== '') return value;
  }
  for (const [name, value] of Object.entries(headers)) {
    if (!EXPLICIT_CHAIN_HEADERS.includes(name) && GENERIC_SESSION_HEADER.test(name) && SESSION_ID_VALUE.test(value)) {
      return value;
    }
  }
  return null;
}

export const agentTraceId: Check = {
  name: 'agent_trace_id',
  spec: 'litellm-auth.md §4 step 2a',
  statuses: [400],
  errorTypes: ['bad_request_error'],
  decide: (ctx) => {
    const { key, agent } = ctx.snapshot;
    if (key === null || key.agent_id === null || agent === null || agent.agent_id !== key.agent_id) return null;
    if (!isTruthy(agent.litellm_params['require_trace_id_on_calls_by_agent'])) return null;
    if (chainIdFromHeaders(ctx.request.headers) !== null) return null;
    return deny(400, 'bad_request_error', "Requests made with this agent's key must include the x-litellm-trace-id header.", null);
  },
};
