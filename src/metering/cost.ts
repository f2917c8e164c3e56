/** The price of one response: each kind of token at its own per-token price (LiteLLM's cost_per_token). */
import type { ModelPrice } from './prices';
import type { Usage } from './usage';

export function costOf(usage: Usage, price: ModelPrice): number {
  return (
    usage.inputTokens * price.input +
    usage.cacheReadTokens * price.cacheRead +
    usage.cacheCreationTokens * price.cacheCreation +
    usage.outputTokens * price.output
  );
}
