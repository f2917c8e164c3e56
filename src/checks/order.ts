/**
 * THE order of Tollgate's checks: LiteLLM's order, read top to bottom (litellm-auth.md §2.2 →
 * §2.5 → §2.6 → §2.7 → §4 table → §6.4). The first refusal wins, so the position of a check
 * decides which error a caller sees when several would refuse.
 *
 * Alerts (soft budgets, the 80 % key alert) are not checks: they never refuse, and are computed
 * after the decision by alerts/budget-alerts.ts. docs/checks.md is generated from these lists
 * (test/checks/docs.test.ts keeps it in step).
 */
import type { Check } from './types';
import { requestSize } from './request-size';
import { requestBodySafety } from './body-safety';
import { requestTagCount } from './request-tag-count';
import { multipartForm } from './multipart-form';
import { allowedIps } from './allowed-ips';
import { proxyAllowedRoutes } from './proxy-allowed-routes';
import { disabledRoutes } from './disabled-routes';
import { endUserBudget, endUserBudgetBeforeKeyLookup } from './end-user-budget';
import { masterKeyOnlyRoute } from './master-key-only-route';
import { keyFound, virtualKeyFormat } from './key-found';
import { keyBlocked } from './key-blocked';
import { keyModelAccess } from './key-model-access';
import { userScimDeactivated } from './user-scim';
import { teamMemberBudget, teamMemberBudgetOnKeyPath } from './team-member-budget';
import { teamMemberModelBudget } from './team-member-model-budget';
import { keyExpired } from './key-expiry';
import { keyBudget } from './key-budget';
import { keyModelBudget } from './key-model-budget';
import { teamModelBudget } from './team-model-budget';
import { userModelBudget } from './user-model-budget';
import { endUserModelBudget } from './end-user-model-budget';
import { teamBlocked } from './team-blocked';
import { teamModelAccess } from './team-model-access';
import { teamMemberModelAccess } from './team-member-model-access';
import { agentTraceId } from './agent-trace-id';
import { userModelAccess } from './user-model-access';
import { projectBlocked, projectBudget, projectModelAccess } from './project-checks';
import { teamBudget } from './team-budget';
import { endUserWindowBudgets, keyWindowBudgets, teamWindowBudgets, userWindowBudgets } from './window-budgets';
import { organizationBudget } from './org-budget';
import { tagBudget } from './tag-budget';
import { personalUserBudget } from './user-budget';
import { enforceUserParam } from './enforce-user-param';
import { rejectClientsideMetadataTags } from './clientside-metadata-tags';
import { globalProxyBudget } from './global-budget';
import { guardrailModification } from './guardrail-modification';
import { organizationRbac } from './organization-rbac';
import { routeRbac } from './route-rbac';
import { vectorStoreAccess } from './vector-store-access';
import { toolAllowlist } from './tool-allowlist';
import { keyAllowedRoutes } from './key-allowed-routes';
import { invalidJsonBody } from './invalid-json-body';

/**
 * `pre_db_read_auth_checks` (§2.2): before any credential is looked at, for every caller
 * (LiteLLM runs them before the master-key and JWT branches too).
 */
export const PRE_DB_CHECKS: readonly Check[] = Object.freeze([
  requestSize,
  multipartForm, // Tollgate's own: a form Starlette refuses to read
  requestBodySafety,
  requestTagCount, // Tollgate's own: bounds the tag lookups
  allowedIps,
  proxyAllowedRoutes,
  // §2.7 step 14's enterprise hook, which LiteLLM runs once the caller is known: here because the
  // master key and callers that need no key pass no later list (disabled-routes.ts).
  disabledRoutes,
]);

/**
 * §2.5: the end user is resolved, and its budget checked, before the key is looked up. In LiteLLM
 * this also precedes the master-key match; the JWT path runs its own end-user lookup.
 */
export const PRE_KEY_CHECKS: readonly Check[] = Object.freeze([endUserBudgetBeforeKeyLookup]);

/** §2.6 steps 6–8 and §2.7 steps 1–8: the virtual key itself. Expiry comes after blocked and model. */
export const KEY_CHECKS: readonly Check[] = Object.freeze([
  masterKeyOnlyRoute,
  virtualKeyFormat,
  keyFound,
  keyBlocked, // §2.7 step 2
  keyModelAccess, // step 3, client-side fallbacks included (§4.14)
  userScimDeactivated, // step 4 [newer]
  teamMemberBudgetOnKeyPath, // step 6
  keyExpired, // step 7
  keyBudget, // step 8, with the temporary budget increase (step 1)
  keyModelBudget, // step 8, per model
  userModelBudget, // step 8, the key owner's per-model budget [newest]
  teamModelBudget, // step 8, the key's team's per-model budget [newest]
  endUserModelBudget, // step 8, the end user's per-model budget ("Check 5b")
]);

/**
 * `common_checks` (§4), shared by every identity that has no further key-specific steps
 * (virtual keys after KEY_CHECKS, JWT identities directly).
 */
export const COMMON_CHECKS: readonly Check[] = Object.freeze([
  teamBlocked, // 1
  teamModelAccess, // 2
  teamMemberModelAccess, // 2.2 [newer]: in LiteLLM's code right after 2
  agentTraceId, // 2a
  userModelAccess, // 2.1
  projectBlocked, // P
  projectModelAccess, // P
  projectBudget, // P
  teamBudget, // 3
  teamWindowBudgets, // [newer] LiteLLM's 3.1 after the team budget: the team's multi-window budgets
  keyWindowBudgets, // [newer] LiteLLM's 3.2: the key's, here and not among the key checks
  organizationBudget, // 3.1
  tagBudget, // 3.2
  personalUserBudget, // 4.1
  userWindowBudgets, // [newer] 4.1 too: the personal key's user's multi-window budgets
  teamMemberBudget, // 4.2
  teamMemberModelBudget, // 4.3 [newer]: the team's per-member, per-model budgets
  endUserBudget, // 5
  endUserWindowBudgets, // [newer] 5 too: the end user's multi-window budgets
  enforceUserParam, // 6
  rejectClientsideMetadataTags, // 6b
  globalProxyBudget, // 7
  guardrailModification, // 8
  organizationRbac, // 10
  routeRbac, // route RBAC (§6.3)
  vectorStoreAccess, // 11
  toolAllowlist, // 12
]);

/**
 * After authentication (`RouteChecks.should_call_route`, §2.7 step 14, §6.4), then the body
 * newer LiteLLM could not read as JSON, whose 400 it raises only after every other check.
 */
export const ROUTE_PERMISSION_CHECKS: readonly Check[] = Object.freeze([keyAllowedRoutes, invalidJsonBody]);

/** Everything a virtual-key (`sk-…`) request goes through, in order. */
export const VIRTUAL_KEY_PIPELINE: readonly Check[] = Object.freeze([
  ...PRE_DB_CHECKS,
  ...PRE_KEY_CHECKS,
  ...KEY_CHECKS,
  ...COMMON_CHECKS,
  ...ROUTE_PERMISSION_CHECKS,
]);
