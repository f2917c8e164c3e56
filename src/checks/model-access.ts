/**
 * LiteLLM's model access algorithm (`auth_checks.py::_can_object_call_model` and
 * `_check_model_access_helper`, litellm-auth.md §5), over the proxy policy instead of a live Router.
 */
import type { Policy } from '../config/policy';
import { deny, type Denial, type ProxyErrorType } from './types';
import { accessGroupsFor, modelAliasMapTarget, modelGroupAliasTarget } from './model-router';
import { isWildcardModelPattern, modelMatchesWildcard } from './model-wildcard';
import { inferProvider } from './providers';
import { pyList } from './python-format';

export type ModelAccessObject = 'key' | 'team' | 'user' | 'org' | 'project';

/** `_types.py::SpecialModelNames`. */
export const ALL_TEAM_MODELS = 'all-team-models';
export const ALL_PROXY_MODELS = 'all-proxy-models';
export const NO_DEFAULT_MODELS = 'no-default-models';

export interface ModelAccessOptions {
  readonly objectType: ModelAccessObject;
  readonly policy: Policy;
  /** The key's team model aliases (`LiteLLM_ModelTable.aliases` of its team): alias names are allowed. */
  readonly teamModelAliases?: Readonly<Record<string, string>>;
  /**
   * Models of the object's DB access groups (`access_group_ids` → `LiteLLM_AccessGroupTable`),
   * tried as a second allowlist when the first refuses (`can_key_call_model`, `can_team_access_model`).
   */
  readonly dbAccessGroupModels?: readonly string[];
}

/** `ProxyErrorTypes.get_model_access_error_type_for_object`. */
export function modelAccessErrorType(objectType: ModelAccessObject): ProxyErrorType {
  return `${objectType}_model_access_denied`;
}

/** The ProxyException `_can_object_call_model` raises (401, param `model`). */
export function modelAccessDenial(objectType: ModelAccessObject, allowlist: readonly string[], model: string): Denial {
  return deny(
    401,
    modelAccessErrorType(objectType),
    `${objectType} not allowed to access model. This ${objectType} can only access models=${pyList(allowlist)}. Tried to access ${model}`,
    'model',
  );
}

/** The pattern matches the model itself, or `<provider>/<model>` (so `gpt-4o` matches `openai/*`). */
function modelMatchesAnyWildcard(model: string, allowlist: readonly string[]): boolean {
  const patterns = allowlist.filter(isWildcardModelPattern);
  if (patterns.some((pattern) => modelMatchesWildcard(model, pattern))) return true;
  const provider = inferProvider(model);
  if (provider === null) return false;
  const qualified = `${provider.provider}/${provider.model}`;
  return patterns.some((pattern) => modelMatchesWildcard(qualified, pattern));
}

/** `_check_model_access_helper` for one candidate name. */
function allowlistAdmits(
  model: string,
  allowlist: readonly string[],
  policy: Policy,
  teamModelAliases: Readonly<Record<string, string>>,
): boolean {
  const groups = accessGroupsFor(policy, model);
  // An allowlist entry naming an access group that contains this model grants it.
  if (allowlist.some((entry) => groups.has(entry))) return true;
  // Group names that do not contain the model are left in as ordinary strings (LiteLLM does the same).
  const filtered = allowlist.filter((entry) => !groups.has(entry));
  if (Object.hasOwn(teamModelAliases, model)) return true;
  if (modelMatchesAnyWildcard(model, filtered)) return true;
  const allAccess =
    (filtered.length === 0 && allowlist.length === 0) || filtered.includes('*') || filtered.includes(ALL_PROXY_MODELS);
  return allAccess || filtered.includes(model);
}

/** Aliases of a key without a team (or of a caller that is not a key): none. */
export const NO_MODEL_ALIASES: Readonly<Record<string, string>> = Object.freeze({});

interface AdmissionMemo {
  readonly policy: Policy;
  readonly teamModelAliases: Readonly<Record<string, string>>;
  readonly answers: Map<string, boolean>;
}

/**
 * allowlistAdmits's answers per cached allowlist. Entities are frozen while cached, and the answer
 * depends only on the model, the allowlist, the policy and the aliases, so a warm key's model checks
 * are one lookup. Keyed weakly by the allowlist: an entity's answers go when the entity does.
 */
const admissionMemos = new WeakMap<readonly string[], AdmissionMemo>();
/** Models are named by the client: a flood of distinct names must not grow the memo. */
const MAX_MEMOIZED_MODELS = 64;

function memoizedAllowlistAdmits(
  model: string,
  allowlist: readonly string[],
  policy: Policy,
  teamModelAliases: Readonly<Record<string, string>>,
): boolean {
  if (!Object.isFrozen(allowlist) || !Object.isFrozen(teamModelAliases)) return allowlistAdmits(model, allowlist, policy, teamModelAliases);
  let memo = admissionMemos.get(allowlist);
  if (memo === undefined || memo.policy !== policy || memo.teamModelAliases !== teamModelAliases) {
    memo = { policy, teamModelAliases, answers: new Map() };
    admissionMemos.set(allowlist, memo);
  }
  const known = memo.answers.get(model);
  if (known !== undefined) return known;
  const answer = allowlistAdmits(model, allowlist, policy, teamModelAliases);
  if (memo.answers.size >= MAX_MEMOIZED_MODELS) memo.answers.clear();
  memo.answers.set(model, answer);
  return answer;
}


function checkAgainst(
  model: string | readonly string[],
  allowlist: readonly string[],
  options: ModelAccessOptions,
): Denial | null {
  const aliases = options.teamModelAliases ?? NO_MODEL_ALIASES;
  // Several lists are checked per Check: a single model is not wrapped in a list of one.
  if (typeof model === 'string') {
    return admitsModelOrAlias(model, allowlist, options.policy, aliases) ? null : modelAccessDenial(options.objectType, allowlist, model);
  }
  for (const name of model) {
    if (!admitsModelOrAlias(name, allowlist, options.policy, aliases)) return modelAccessDenial(options.objectType, allowlist, name);
  }
  return null;
}

/** The model, or the model its alias names (`litellm.model_alias_map`, else the router's `model_group_alias`). */
function admitsModelOrAlias(
  model: string,
  allowlist: readonly string[],
  policy: Policy,
  aliases: Readonly<Record<string, string>>,
): boolean {
  if (memoizedAllowlistAdmits(model, allowlist, policy, aliases)) return true;
  const aliasTarget = modelAliasMapTarget(policy, model) ?? modelGroupAliasTarget(policy, model);
  return aliasTarget !== null && memoizedAllowlistAdmits(aliasTarget, allowlist, policy, aliases);
}

/**
 * May this key/team/user/org/project call `model`? A list means every entry must be allowed;
 * the denial names the first refused entry. An empty allowlist, `*` or `all-proxy-models` allow all.
 */
export function canObjectCallModel(
  model: string | readonly string[],
  allowlist: readonly string[],
  options: ModelAccessOptions,
): Denial | null {
  const refusal = checkAgainst(model, allowlist, options);
  const groupModels = options.dbAccessGroupModels;
  if (refusal === null || groupModels === undefined || groupModels.length === 0) return refusal;
  // LiteLLM retries with the DB access groups' models; when that also refuses, its error (naming
  // those models) is the one raised, not the original.
  return checkAgainst(model, groupModels, options);
}
