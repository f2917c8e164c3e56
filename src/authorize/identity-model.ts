import { modelLabel, UNREAD_MODEL, type RequestFacts } from '../domain/request';
import { servedModelNamesOf } from '../routes/handler-model';

/**
 * The model the identity names (header and metadata: what metering prices the response by, names
 * its spend by and charges per-model windows with): the requested model(s) as one label, except
 * where LiteLLM's handler serves its own `model` (the path's or the query's, routes/handler-model.ts)
 * in place of the body's: then the one it serves, as LiteLLM's spend log names it. The checks read
 * both (envoy/attributes.ts); the label of both named no model the price table knows, and the
 * response went unpriced. Only a list can hold a served model the body did not name, or a body
 * cut before its model where `general_settings.completion_model` applies: LiteLLM serves that one
 * whatever the body holds. A single name costs one type check and one property read.
 */
export function identityModelOf(facts: RequestFacts): string | undefined {
  const model = facts.model;
  if (model !== null && (typeof model !== 'string' || (facts.completionModel !== undefined && model === UNREAD_MODEL))) {
    const names = servedModelNamesOf(facts);
    if (names !== null) return typeof names === 'string' ? names : names.join(',');
  }
  return modelLabel(model) ?? undefined;
}
