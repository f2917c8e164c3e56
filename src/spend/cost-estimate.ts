/**
 * What a request may cost, estimated at Check time for a reservation: the prompt at roughly four
 * characters per token, plus the output the request allows (`max_completion_tokens`,
 * `max_tokens`, `max_output_tokens`) or a configured default. Deliberately generous: an
 * over-estimate only holds budget a little longer, an under-estimate is what lets spend overshoot.
 */
import type { RequestFacts } from '../domain/request';
import type { ModelPrice, PriceTable } from '../metering/prices';

const CHARS_PER_TOKEN = 4;

function outputLimitOf(facts: RequestFacts): number | null {
  const body = facts.body ?? {};
  for (const name of ['max_completion_tokens', 'max_tokens', 'max_output_tokens']) {
    const value = body[name];
    if (typeof value === 'number' && Number.isFinite(value) && value >= 0) return value;
  }
  return null;
}

/**
 * The body's declared length, else the bytes Envoy forwarded (a prefix of a larger body counts
 * for what it holds). Never a re-serialisation of the parsed body: that would decode the prompt
 * the parser left undecoded (envoy/json-object.ts), and it undercounted a cut body as empty.
 * The tpm reservation counts its input from it too (ratelimit/token-estimate.ts).
 */
export function promptCharsOf(facts: RequestFacts): number {
  const declared = Number(facts.headers['content-length']);
  if (Number.isFinite(declared) && declared > 0) return declared;
  return facts.bodyBytes;
}

/**
 * A request naming several models (a body's list, or the body's model beside the one LiteLLM's
 * handler serves from the path or `?model=`) is estimated at the dearest of them: which one the
 * response comes from is not known yet, and an estimate of 0 reserved nothing, so such requests
 * could run past a budget together. UNREAD_MODEL names no price.
 */
export function estimateCost(facts: RequestFacts, prices: PriceTable, defaultOutputTokens: number): number {
  const model = facts.model;
  if (model === null) return 0;
  const inputTokens = Math.ceil(promptCharsOf(facts) / CHARS_PER_TOKEN);
  const outputTokens = outputLimitOf(facts) ?? defaultOutputTokens;
  if (typeof model === 'string') return costAt(prices.priceOf(model, null), inputTokens, outputTokens);
  let estimate = 0;
  for (const name of model) estimate = Math.max(estimate, costAt(prices.priceOf(name, null), inputTokens, outputTokens));
  return estimate;
}

function costAt(price: ModelPrice | null, inputTokens: number, outputTokens: number): number {
  return price === null ? 0 : inputTokens * price.input + outputTokens * price.output;
}
