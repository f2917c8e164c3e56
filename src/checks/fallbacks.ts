/**
 * Client-side fallbacks named in the request body, as LiteLLM's `iter_request_fallback_targets`
 * yields them: strings, `{"model": …}` objects, and the router's own shape
 * `{"gpt-4o-mini": ["gpt-4o", {"model": …}]}`, whose targets (not its key, the primary) are each
 * a model the request may end up served by. Every target must pass the key's model checks: one
 * left out would reach a model the key may not call once the primary fails.
 */
import type { Json, JsonObject } from '../domain/entities';
import { isJsonObject } from './context';

const NO_TARGETS: readonly string[] = Object.freeze([]);

export function requestFallbackTargets(body: Readonly<Record<string, Json>>): readonly string[] {
  const fallbacks = body['fallbacks'];
  if (!Array.isArray(fallbacks)) return NO_TARGETS;
  const targets: string[] = [];
  for (const entry of fallbacks) addTarget(targets, entry, true);
  return targets;
}

function addTarget(targets: string[], entry: Json, mayMap: boolean): void {
  if (typeof entry === 'string') targets.push(entry);
  else if (isJsonObject(entry)) {
    if (typeof entry['model'] === 'string') targets.push(entry['model']);
    else if (mayMap) addMappedTargets(targets, entry);
  }
}

/** `{primary: [targets]}` (or `{primary: target}`): the targets, one level deep. */
function addMappedTargets(targets: string[], mapping: JsonObject): void {
  for (const value of Object.values(mapping)) {
    for (const target of Array.isArray(value) ? value : [value]) addTarget(targets, target, false);
  }
}
