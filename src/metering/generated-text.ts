/**
 * How much text a response generated, counted from the same JSON objects the usage is read from,
 * for responses that report no usage: a stream without `stream_options.include_usage` (the
 * OpenAI SDKs' default) would otherwise be free. LiteLLM counts such a stream's tokens itself;
 * Tollgate estimates them from the UTF-8 bytes of what was generated (usage-estimate.ts).
 *
 * Counted: the text of every delta (OpenAI chat and legacy completions, the Responses API's
 * `*.delta` events for text, refusals, reasoning and tool arguments, Anthropic's text, thinking
 * and tool-input deltas) and of a whole message in a body. Never the events that repeat what the
 * deltas already said (`response.output_text.done`, `response.completed`), nor audio or images
 * (base64, priced otherwise). Pure: no I/O.
 */
import type { Json } from '../domain/entities';

type JsonRecord = { readonly [key: string]: Json };

function asRecord(value: Json | undefined): JsonRecord | null {
  return value !== null && value !== undefined && typeof value === 'object' && !Array.isArray(value) ? value : null;
}

function asArray(value: Json | undefined): readonly Json[] {
  return Array.isArray(value) ? value : [];
}

/** The text-bearing fields of an OpenAI chat `delta` or `message`. */
const MESSAGE_TEXT_FIELDS = ['content', 'reasoning_content', 'reasoning', 'refusal'] as const;

/** Responses API stream events whose `delta` is generated text (not audio, not a repeat). */
const RESPONSES_TEXT_DELTAS: ReadonlySet<string> = new Set([
  'response.output_text.delta',
  'response.refusal.delta',
  'response.function_call_arguments.delta',
  'response.custom_tool_call_input.delta',
  'response.mcp_call_arguments.delta',
  'response.code_interpreter_call_code.delta',
  'response.reasoning_text.delta',
  'response.reasoning_summary_text.delta',
  'response.audio.transcript.delta',
]);

/** Anthropic `content_block_delta` kinds and the field holding their text. */
const ANTHROPIC_DELTA_FIELDS: Readonly<Record<string, string>> = {
  text_delta: 'text',
  input_json_delta: 'partial_json',
  thinking_delta: 'thinking',
};

export class GeneratedText {
  private bytes = 0;

  /** UTF-8 bytes of generated text seen so far. */
  get byteCount(): number {
    return this.bytes;
  }

  observe(value: Json): void {
    const event = asRecord(value);
    if (event === null) return;
    const type = typeof event.type === 'string' ? event.type : null;
    if (type !== null && RESPONSES_TEXT_DELTAS.has(type)) {
      this.add(event.delta);
      return;
    }
    if (type === 'content_block_delta') {
      const delta = asRecord(event.delta);
      const field = delta !== null && typeof delta.type === 'string' ? ANTHROPIC_DELTA_FIELDS[delta.type] : undefined;
      if (delta !== null && field !== undefined) this.add(delta[field]);
      return;
    }
    for (const choice of asArray(event.choices)) {
      const record = asRecord(choice);
      if (record === null) continue;
      this.add(record.text);
      this.addMessage(asRecord(record.delta));
      this.addMessage(asRecord(record.message));
    }
  }

  private addMessage(message: JsonRecord | null): void {
    if (message === null) return;
    for (const field of MESSAGE_TEXT_FIELDS) this.add(message[field]);
    this.addCall(asRecord(message.function_call));
    for (const call of asArray(message.tool_calls)) this.addCall(asRecord(asRecord(call)?.function));
  }

  private addCall(call: JsonRecord | null): void {
    if (call === null) return;
    this.add(call.name);
    this.add(call.arguments);
  }

  private add(text: Json | undefined): void {
    if (typeof text === 'string' && text !== '') this.bytes += Buffer.byteLength(text, 'utf8');
  }
}
