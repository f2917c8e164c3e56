/**
 * Token usage as providers report it, normalised to the four quantities that are priced
 * differently: fresh input, cache reads, cache writes and output.
 *
 * The shapes differ in one way that matters for money: OpenAI's `prompt_tokens` / `input_tokens`
 * INCLUDE the cached tokens (`*_tokens_details.cached_tokens`), Anthropic's `input_tokens`
 * EXCLUDE them (`cache_read_input_tokens`, `cache_creation_input_tokens` are separate).
 * Pure: no I/O, fed JSON objects by the body and SSE readers.
 */
import { wellFormed } from '../util/well-formed';
import { createHash } from 'node:crypto';
import type { Json } from '../domain/entities';

export interface Usage {
  /** Input tokens billed at the input price (cache reads and writes excluded). */
  readonly inputTokens: number;
  readonly cacheReadTokens: number;
  readonly cacheCreationTokens: number;
  readonly outputTokens: number;
}

export function promptTokensOf(usage: Usage): number {
  return usage.inputTokens + usage.cacheReadTokens + usage.cacheCreationTokens;
}

export function totalTokensOf(usage: Usage): number {
  return promptTokensOf(usage) + usage.outputTokens;
}

/** LiteLLM's `general_settings.token_rate_limit_type`: which of a response's tokens tpm limits count. */
export type TokenRateLimitType = 'total' | 'input' | 'output';

/**
 * `general_settings.token_rate_limit_type` as v3's `get_rate_limit_type` reads it: anything but
 * `input` or `output` (unset, a typo, another type) counts as `total`, so a config LiteLLM accepts
 * is accepted here and means the same.
 */
export function tokenRateLimitTypeOf(value: unknown): TokenRateLimitType {
  return value === 'input' || value === 'output' ? value : 'total';
}

/**
 * The tokens a response counts against tpm limits, as LiteLLM's v3 limiter counts them
 * (`_get_total_tokens_from_usage`): `total` is the total less the cache reads, `input` the prompt
 * less the cache reads (`prompt_tokens_details.cached_tokens`, which LiteLLM fills from OpenAI's
 * and the Responses API's `cached_tokens` and from Anthropic's `cache_read_input_tokens`), since
 * providers do not count cache reads toward their own rate limits; `output` the completion alone.
 * Cache writes still count (LiteLLM folds Anthropic's `cache_creation_input_tokens` into
 * `prompt_tokens` and does not take them out).
 */
export function rateLimitTokensOf(usage: Usage, type: TokenRateLimitType): number {
  const input = usage.inputTokens + usage.cacheCreationTokens;
  if (type === 'input') return input;
  if (type === 'output') return usage.outputTokens;
  return input + usage.outputTokens;
}

type JsonRecord = { readonly [key: string]: Json };

function asRecord(value: Json | undefined): JsonRecord | null {
  return value !== null && value !== undefined && typeof value === 'object' && !Array.isArray(value) ? value : null;
}

/**
 * A token count; a fractional one is rounded, as the queue's events hold whole tokens. One past
 * 2^53 is no count (the queue would refuse the event and the spend would never be written).
 */
function count(value: Json | undefined): number | undefined {
  if (typeof value !== 'number' || !(value >= 0)) return undefined;
  const rounded = Math.round(value);
  return Number.isSafeInteger(rounded) ? rounded : undefined;
}

/**
 * Provider ids are a few dozen characters (`chatcmpl-…`, `msg_…`, `resp_…`). A longer one is kept
 * as its sha256, so that a charge id built from it stays small and still the same on a replay.
 */
const MAX_RESPONSE_ID = 255;

function responseIdOf(value: Json | undefined): string | null {
  if (typeof value !== 'string' || value === '') return null;
  // Well-formed first: the database stores half a surrogate pair as U+FFFD, and a charge id that
  // differed from its stored form would not be found on a replay (a duplicate key, forever).
  const id = wellFormed(value);
  return id.length > MAX_RESPONSE_ID ? createHash('sha256').update(id).digest('hex') : id;
}

/** The raw counters seen so far; later reports overwrite earlier ones field by field. */
interface RawCounts {
  promptTokens?: number;
  completionTokens?: number;
  inputTokens?: number;
  outputTokens?: number;
  /** OpenAI `prompt_tokens_details.cached_tokens` / `input_tokens_details.cached_tokens` (included in the input). */
  includedCachedTokens?: number;
  /** Anthropic `cache_read_input_tokens` (not included in `input_tokens`). */
  cacheReadTokens?: number;
  cacheCreationTokens?: number;
}

/**
 * Collects usage from every JSON object of one response: a buffered body is one object, an SSE
 * stream many (OpenAI: the final chunk; Responses API: `response.completed`; Anthropic: input in
 * `message_start`, cumulative output in `message_delta`). Last value per field wins, which is
 * right for each of them because the later reports are cumulative.
 * The provider's id of the response is read in the same pass: top-level `id` (OpenAI bodies and
 * every chunk of their streams, Anthropic bodies), `message.id` (Anthropic's `message_start`),
 * `response.id` (Responses API stream events). The first one seen wins.
 */
export class UsageAccumulator {
  private readonly raw: RawCounts = {};
  private seen = false;
  private model: string | null = null;
  private id: string | null = null;

  observe(value: Json): void {
    const object = asRecord(value);
    if (object === null) return;
    const nestedMessage = asRecord(object.message);
    const nestedResponse = asRecord(object.response);
    for (const holder of [object, nestedMessage, nestedResponse]) {
      if (holder === null) continue;
      if (typeof holder.model === 'string' && holder.model !== '') this.model = holder.model;
      this.id ??= responseIdOf(holder.id);
      const usage = asRecord(holder.usage);
      if (usage !== null) this.merge(usage);
    }
  }

  /** The model the provider says answered (e.g. `gpt-4o-2024-08-06`); null when none was reported. */
  reportedModel(): string | null {
    return this.model;
  }

  /** The provider's id of this response; null when it carried none. */
  responseId(): string | null {
    return this.id;
  }

  /** Null when no usage object was ever seen (an unmetered response). */
  result(): Usage | null {
    if (!this.seen) return null;
    const r = this.raw;
    const output = r.outputTokens ?? r.completionTokens ?? 0;
    const cacheCreation = r.cacheCreationTokens ?? 0;
    if (r.cacheReadTokens !== undefined || r.cacheCreationTokens !== undefined) {
      // Anthropic: input_tokens already excludes both cache kinds.
      return { inputTokens: r.inputTokens ?? r.promptTokens ?? 0, cacheReadTokens: r.cacheReadTokens ?? 0, cacheCreationTokens: cacheCreation, outputTokens: output };
    }
    const prompt = r.promptTokens ?? r.inputTokens ?? 0;
    const cached = Math.min(r.includedCachedTokens ?? 0, prompt);
    return { inputTokens: prompt - cached, cacheReadTokens: cached, cacheCreationTokens: 0, outputTokens: output };
  }

  private merge(usage: JsonRecord): void {
    const fields: RawCounts = {
      promptTokens: count(usage.prompt_tokens),
      completionTokens: count(usage.completion_tokens),
      inputTokens: count(usage.input_tokens),
      outputTokens: count(usage.output_tokens),
      includedCachedTokens:
        count(asRecord(usage.prompt_tokens_details)?.cached_tokens) ?? count(asRecord(usage.input_tokens_details)?.cached_tokens),
      cacheReadTokens: count(usage.cache_read_input_tokens),
      cacheCreationTokens: count(usage.cache_creation_input_tokens),
    };
    for (const [name, value] of Object.entries(fields) as [keyof RawCounts, number | undefined][]) {
      if (value === undefined) continue;
      this.raw[name] = value;
      this.seen = true;
    }
  }
}
