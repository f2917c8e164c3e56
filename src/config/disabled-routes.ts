/**
 * LiteLLM's `DISABLE_ADMIN_ENDPOINTS` and `DISABLE_LLM_API_ENDPOINTS`: how an admin instance and
 * its data-plane workers each refuse the other's routes (checks/disabled-routes.ts decides).
 */
import { ConfigError } from './litellm-config';
import { pyStrip } from '../util/python-strip';

/** Which LiteLLM route kinds this instance refuses for every caller. */
export interface DisabledRoutes {
  /** `DISABLE_ADMIN_ENDPOINTS`: management routes (`is_management_route`). */
  readonly management: boolean;
  /** `DISABLE_LLM_API_ENDPOINTS`: LLM API routes (`is_llm_api_route`), model listing excepted. */
  readonly llmApi: boolean;
}

export const NO_DISABLED_ROUTES: DisabledRoutes = Object.freeze({ management: false, llmApi: false });

/**
 * LiteLLM reads both with `get_secret_bool(...) is True`: `str_to_bool` on the stripped,
 * lower-cased text, `true` or `false`, and any other text as not disabled. Tollgate takes `true`
 * and `false` the same way, and an empty value as unset, but refuses to start on any other text:
 * `1` or `yes` would leave the routes open while the operator believes them closed.
 *
 * LiteLLM also answers 500 on these routes when the variable is set on a non-premium install;
 * Tollgate has no licence tiers (as with `admin_only_routes` or `max_request_size_mb`) and always
 * honours them.
 */
export function disabledRoutesFrom(env: NodeJS.ProcessEnv): DisabledRoutes {
  const management = isSwitchedOn(env, 'DISABLE_ADMIN_ENDPOINTS');
  const llmApi = isSwitchedOn(env, 'DISABLE_LLM_API_ENDPOINTS');
  return management || llmApi ? Object.freeze({ management, llmApi }) : NO_DISABLED_ROUTES;
}

function isSwitchedOn(env: NodeJS.ProcessEnv, name: string): boolean {
  const text = env[name];
  if (text === undefined) return false;
  // Stripped as str_to_bool strips: U+001C–U+001F and U+0085 go and U+FEFF stays, where trim() does the opposite.
  const value = pyStrip(text).toLowerCase();
  if (value === 'true') return true;
  if (value === 'false' || value === '') return false;
  throw new ConfigError(`${name}: must be true or false (got '${visible(text)}'; LiteLLM would read it as false and leave the routes open)`);
}

/** The value as the operator can read it back: a stray BOM or control character would print as nothing. */
function visible(text: string): string {
  return text.replace(/[^\x20-\x7e]/g, (ch) => `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
