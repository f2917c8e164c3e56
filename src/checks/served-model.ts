/**
 * The model LiteLLM's chat, completions and embeddings handlers serve in place of the body's (the
 * path's of `/openai/deployments/{model}/…` and `/engines/{model}/…`, else `?model=`:
 * routes/handler-model.ts), which the model checks read beside the body's (envoy/attributes.ts).
 */
import { servedModelNamesOf } from '../routes/handler-model';
import { teamModelAliasesOfKey } from './context';
import type { CheckContext } from './types';

/**
 * The key's team model aliases as the model checks may honour them. LiteLLM allows an alias's name
 * because its request setup rewrites the body's model through the team's aliases before serving
 * it (`_update_model_if_team_alias_exists`); the handler's model replaces the result afterwards and
 * is never rewritten so. A team aliasing `gpt-4o` to `gpt-4o-mini` was served `gpt-4o` itself for
 * `?model=gpt-4o`: the names served lose the alias's pass. The team's own object, unchanged, for
 * every request whose handler serves the body's model or names no alias.
 */
export function teamModelAliasesForChecks(ctx: CheckContext): Readonly<Record<string, string>> {
  const aliases = teamModelAliasesOfKey(ctx.snapshot);
  const request = ctx.request;
  // A body naming the served model too is rewritten by the alias, and then replaced by it all the same.
  if (request.model === null || !hasOwnKey(aliases)) return aliases;
  const served = servedModelNamesOf(request);
  if (served === null) return aliases;
  const names = typeof served === 'string' ? [served] : served;
  if (!names.some((name) => Object.hasOwn(aliases, name))) return aliases;
  const kept: Record<string, string> = {};
  for (const [name, target] of Object.entries(aliases)) if (!names.includes(name)) kept[name] = target;
  return kept;
}

function hasOwnKey(record: Readonly<Record<string, string>>): boolean {
  for (const name in record) if (Object.hasOwn(record, name)) return true;
  return false;
}
