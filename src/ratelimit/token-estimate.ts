/**
 * The tokens a request is expected to use, reserved against its tpm limits at admission: the
 * newest v3 limiter's `_estimate_tokens_for_request` (parallel_request_limiter_v3.py), so that a
 * burst of concurrent requests cannot all pass a tpm limit before any response is counted.
 *
 * v3: input = max(1, chars // 4) when there is a prompt, else 0; output = the request's
 * `max_tokens` (else `max_completion_tokens`), 0 for embeddings and for a request without
 * prompt, else max(input, floor) with floor = min(4096 // 4, max(1, smallest tpm limit // 4));
 * the reservation is input + output, at least 1 (a contentless request still meets a full window).
 *
 * One deliberate difference: v3 counts the characters of the prompt's text
 * (`get_str_from_messages`, `prompt`, `input`); Tollgate counts the body's length, as the budget
 * estimate does (spend/cost-estimate.ts). Reading the text would decode the prompt the parser
 * leaves undecoded (envoy/json-object.ts), on every Check of a tpm-limited caller, and a body cut
 * by Envoy has no prompt to read. The envelope (`model`, roles, quotes) is counted too: the
 * estimate is a few tokens higher than v3's, never lower.
 */
import type { Json } from '../domain/entities';
import type { RequestFacts } from '../domain/request';
import { promptCharsOf } from '../spend/cost-estimate';

/** v3's DEFAULT_CHARS_PER_TOKEN. */
export const CHARS_PER_TOKEN = 4;
/** v3's DEFAULT_MAX_TOKENS_ESTIMATE. */
export const DEFAULT_MAX_TOKENS_ESTIMATE = 4096;
/** v3's _TPM_FLOOR_FRACTION: the output floor is a quarter of the default estimate, or of the smallest tpm limit. */
export const TPM_FLOOR_FRACTION = 4;

/** The fields v3 reads the prompt from: chat, text completions, embeddings (and the Responses API). */
const PROMPT_FIELDS = ['messages', 'prompt', 'input'] as const;

/**
 * v3's `_no_max_tokens_output_floor`: the output reserved for a request that sets no
 * `max_tokens`, capped at a quarter of the smallest tpm limit so a small limit is not tripped by
 * the floor alone.
 */
export function outputFloor(smallestTpmLimit: number | null): number {
  const baseline = Math.floor(DEFAULT_MAX_TOKENS_ESTIMATE / TPM_FLOOR_FRACTION);
  if (smallestTpmLimit === null) return baseline;
  return Math.min(baseline, Math.max(1, Math.floor(smallestTpmLimit / TPM_FLOOR_FRACTION)));
}

/**
 * The tokens to reserve for this request against tpm limits, the smallest of which is
 * `smallestTpmLimit`: at least 1.
 */
export function estimateRequestTokens(facts: RequestFacts, smallestTpmLimit: number | null): number {
  const body = facts.body;
  const chars = hasPrompt(facts) ? promptCharsOf(facts) : 0;
  const input = chars > 0 ? Math.max(1, Math.floor(chars / CHARS_PER_TOKEN)) : 0;
  const explicit = body === null ? null : explicitMaxTokens(body);
  let output: number;
  if (explicit !== null) output = explicit;
  // v3 takes a truthy `input` without max_tokens for an embedding (its later revision asks the
  // call type, as the route does here: a Responses API `input` expects output).
  else if (isEmbeddingRoute(facts.route)) output = 0;
  else if (chars === 0) output = 0;
  else output = Math.max(input, outputFloor(smallestTpmLimit));
  return Math.max(1, input + output);
}

/**
 * Whether the request carries a prompt v3 would count: a truthy `messages`, `prompt` or `input`.
 * A value the parser left undecoded (a string or container, envoy/json-object.ts) is taken as
 * one without reading it (an empty one is then counted too); a body cut short may have left its
 * prompt out of what was parsed, so it counts as having one.
 */
function hasPrompt(facts: RequestFacts): boolean {
  if (facts.bodyTruncated) return true;
  const body = facts.body;
  if (body === null) return false;
  for (const field of PROMPT_FIELDS) {
    const own = Object.getOwnPropertyDescriptor(body, field);
    if (own === undefined) continue;
    if (own.get !== undefined || pyTruthy(own.value as Json)) return true;
  }
  return false;
}

/**
 * v3's `data.get("max_tokens") or data.get("max_completion_tokens")` through int(): a falsy
 * max_tokens (0, null, "") falls through to max_completion_tokens; a fraction is truncated; a
 * numeric string is read as Python's int() reads it. A value int() cannot read makes v3's hook
 * raise; here it counts as no cap.
 */
function explicitMaxTokens(body: Readonly<Record<string, Json>>): number | null {
  const maxTokens = body.max_tokens;
  const value = pyTruthy(maxTokens) ? maxTokens : body.max_completion_tokens;
  if (value === undefined || value === null) return null;
  if (typeof value === 'boolean') return value ? 1 : 0;
  if (typeof value === 'number') return Number.isFinite(value) ? Math.trunc(value) : null;
  if (typeof value === 'string' && /^\s*[+-]?\d+\s*$/.test(value)) return Number.parseInt(value, 10);
  return null;
}

function isEmbeddingRoute(route: string): boolean {
  return route.endsWith('/embeddings');
}

/** Python's truthiness of a JSON value. */
function pyTruthy(value: Json | undefined): boolean {
  if (value === undefined || value === null || value === false || value === 0 || value === '') return false;
  if (Array.isArray(value)) return value.length > 0;
  return typeof value !== 'object' || Object.keys(value).length > 0;
}
