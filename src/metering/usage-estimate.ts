/**
 * The usage charged for a successful response that reported none, on the routes that bill tokens.
 *
 * Without it such a response would be free, and a client could spend past any budget by streaming
 * without `stream_options.include_usage`, which is the OpenAI SDKs' default. LiteLLM counts those
 * tokens with a tokenizer; Tollgate sees neither the prompt (ext_proc gets request headers only)
 * nor a tokenizer for every provider, so it estimates at four UTF-8 bytes a token, the rule the
 * reservation's estimate uses (spend/cost-estimate.ts):
 * - input: the request body's `content-length` (its JSON framing adds a few tokens per message,
 *   about what providers add for each message themselves);
 * - output: the text the response generated (generated-text.ts).
 * English text runs at about four characters a token; CJK text at three bytes a character
 * is counted at 0.75 tokens a character, near what the o200k tokenizer gives.
 */
import type { Usage } from './usage';

const BYTES_PER_TOKEN = 4;

/** LiteLLM call types whose price is per token, and whose responses an estimate can charge. */
const TOKEN_BILLED_CALL_TYPES: ReadonlySet<string> = new Set(['acompletion', 'atext_completion', 'aresponses', 'anthropic_messages', 'aembedding']);

export function isTokenBilled(callType: string): boolean {
  return TOKEN_BILLED_CALL_TYPES.has(callType);
}

/** Null when there is nothing to charge: no request length known and no text generated. */
export function estimatedUsage(requestBytes: number, generatedBytes: number): Usage | null {
  const inputTokens = Math.ceil(Math.max(0, requestBytes) / BYTES_PER_TOKEN);
  const outputTokens = Math.ceil(Math.max(0, generatedBytes) / BYTES_PER_TOKEN);
  if (inputTokens === 0 && outputTokens === 0) return null;
  return { inputTokens, cacheReadTokens: 0, cacheCreationTokens: 0, outputTokens };
}
