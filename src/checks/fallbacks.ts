/**
 * Client-side fallbacks named in the request body (`fallbacks: ["gpt-4o-mini", {"model": "x"}]`),
 * as LiteLLM's `iter_request_fallback_targets` yields them.
 */
import type { Json } from '../domain/entities';
import { isJsonObject } from './context';

const NO_TARGETS: readonly string[] = Object.freeze([]);

export function requestFallbackTargets(body: Readonly<Record<string, Json>>): readonly string[] {
  const fallbacks = body['fallbacks'];
  if (!Array.isArray(fallbacks)) return NO_TARGETS;
  const targets: string[] = [];
  for (const entry of fallbacks) {
    if (typeof entry === 'string') targets.push(entry);
    else if (isJsonObject(entry) && typeof entry['model'] === 'string') targets.push(entry['model']);
  }
  return targets;
}
