/**
 * What a request may cost, estimated at Check time for a reservation: the prompt at roughly four
 * characters per token, plus the output the request allows (`max_completion_tokens`,
 * `max_tokens`, `max_output_tokens`) or a configured default. Deliberately generous: an
 * over-estimate only holds budget a little longer, an under-estimate is what lets spend overshoot.
 */
import type { RequestFacts } from '../domain/request';
import type { PriceTable } from '../metering/prices';

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

export function estimateCost(facts: RequestFacts, prices: PriceTable, defaultOutputTokens: number): number {
  const model = typeof facts.model === 'string' ? facts.model : null;
  const price = prices.priceOf(model, null);
  if (price === null) return 0;
  const inputTokens = Math.ceil(promptCharsOf(facts) / CHARS_PER_TOKEN);
  const outputTokens = outputLimitOf(facts) ?? defaultOutputTokens;
  return inputTokens * price.input + outputTokens * price.output;
}
