/**
 * Python truthiness of a JSON value, as LiteLLM's `if body.get("model"):` and
 * `if metadata.get("guardrails"):` read it: null, false, 0, "", [] and {} are false.
 */
import type { Json } from './entities';
import { hasOwnKeys } from '../util/own-keys';

export function isTruthy(value: Json | undefined): boolean {
  if (value === undefined || value === null || value === false || value === 0 || value === '') return false;
  if (Array.isArray(value)) return value.length > 0;
  if (typeof value === 'object') return hasOwnKeys(value);
  return true;
}
