/**
 * Client-side fallbacks named in the request body, as LiteLLM's `iter_request_fallback_targets`
 * and `_enforce_key_and_fallback_model_access` walk them: the three fallback fields the router
 * takes as per-request kwargs (`fallbacks`, `context_window_fallbacks`,
 * `content_policy_fallbacks`), at the top level and inside `router_settings_override` (promoted to
 * kwargs after auth). Each field holds strings, `{"model": …}` objects (whose own `fallbacks` are
 * walked in turn), and the router's shape `{"gpt-4o-mini": ["gpt-4o", {"model": …}]}`, whose
 * targets (not its key, the primary) are each a model the request may end up served by. Every
 * target must pass the key's model checks: one left out would reach a model the key may not call
 * once the primary fails. A target object without a model is skipped.
 */
import type { Json, JsonObject } from '../domain/entities';
import { isJsonObject } from './context';

const NO_TARGETS: readonly string[] = Object.freeze([]);
const FALLBACK_FIELDS = ['fallbacks', 'context_window_fallbacks', 'content_policy_fallbacks'] as const;

export function requestFallbackTargets(body: Readonly<Record<string, Json>>): readonly string[] {
  const override = body['router_settings_override'];
  if (!hasFallbacks(body) && !(isJsonObject(override) && hasFallbacks(override))) return NO_TARGETS;
  const targets: string[] = [];
  addFields(targets, body);
  if (isJsonObject(override)) addFields(targets, override);
  return targets;
}

/** Asked of every body: a loop, so no closure is made for it. */
function hasFallbacks(fields: Readonly<Record<string, Json>>): boolean {
  for (const field of FALLBACK_FIELDS) if (fields[field] !== undefined) return true;
  return false;
}

function addFields(targets: string[], fields: Readonly<Record<string, Json>>): void {
  for (const field of FALLBACK_FIELDS) addList(targets, fields[field]);
}

/** A fallback list: only a list is walked (LiteLLM yields nothing for anything else). */
function addList(targets: string[], list: Json | undefined): void {
  if (!Array.isArray(list)) return;
  for (const entry of list) addTarget(targets, entry, true);
}

function addTarget(targets: string[], entry: Json, mayMap: boolean): void {
  if (typeof entry === 'string') targets.push(entry);
  else if (isJsonObject(entry)) {
    if (typeof entry['model'] === 'string') {
      targets.push(entry['model']);
      // A deployment target's own fallbacks are tried after it.
      addList(targets, entry['fallbacks']);
    } else if (mayMap) addMappedTargets(targets, entry);
  }
}

/** `{primary: [targets]}` (or `{primary: target}`): the targets. */
function addMappedTargets(targets: string[], mapping: JsonObject): void {
  for (const value of Object.values(mapping)) {
    for (const target of Array.isArray(value) ? value : [value]) addTarget(targets, target, false);
  }
}
