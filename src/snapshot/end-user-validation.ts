/**
 * `litellm_settings.validate_end_user_id_in_db` (LiteLLM v1.87.0+, `resolve_and_validate_end_user_id`):
 * the end user a request names is kept only when it names a customer row (LiteLLM_EndUserTable
 * `user_id`), an internal user's `user_id`, or an internal user's `user_email` (up to case, as
 * `_get_fuzzy_user_object` matches it); any other is dropped, and the request goes on as one that
 * names no end user: no end-user budget, no end-user identity header, no customer in spend.
 * The id kept is the one the request wrote: an email stays the email, as LiteLLM keeps it.
 *
 * With `max_end_user_budget_id` also set, LiteLLM keeps every id (JSON-shaped ones aside, dropped
 * as they are read: envoy/end-user.ts), so the default budget still limits customers that have no
 * row yet; nothing is looked up then.
 *
 * Every lookup goes through the caching store (memory, then the shared tier, then the database),
 * found and not-found answers alike, so a warm Check decides it without a round trip. LiteLLM
 * caches the answer 5 minutes when found and 1 minute when not; Tollgate's own TTL, background
 * revalidation and negative TTL apply instead (tollgate.cache_ttl_seconds, cache_refresh_seconds,
 * negative_cache_ttl_seconds). A lookup that fails is the store's failure like any other
 * (StoreUnavailableError: allow_requests_on_db_unavailable or UNAVAILABLE), not a drop.
 */
import type { Policy } from '../config/policy';
import type { EndUser } from '../domain/entities';
import type { AuthStore } from '../store/auth-store';
import { endUserOf, userIdByEmailOf, userOf } from '../store/memory-first';
import { andThen, type MaybePromise } from '../util/maybe-promise';

/** Whether the setting has an id to look up: on, an id named, and no default budget that keeps every id. */
export function validatesEndUserId(endUserId: string | null, policy: Policy): endUserId is string {
  return endUserId !== null && policy.validateEndUserIdInDb && policy.maxEndUserBudgetId === null;
}

/** The end user id the request goes on with: `endUserId` itself, or null when the setting drops it. */
export function validatedEndUserId(store: AuthStore, endUserId: string | null, policy: Policy): MaybePromise<string | null> {
  return validatesEndUserId(endUserId, policy) ? confirmedEndUserId(store, endUserId, true) : endUserId;
}

/** `validatedEndUserId` for an id the setting validates, the customer row looked up here. */
export function confirmedEndUserId(store: AuthStore, endUserId: string, credentialAccepted: boolean): MaybePromise<string | null> {
  return andThen(endUserOf(store, endUserId), (customer) => keptEndUserId(store, endUserId, customer, credentialAccepted));
}

/**
 * The rest of the validation once the customer row has been looked up (`customer`): a customer id
 * (the usual case) is kept with that one lookup, which a snapshot makes anyway. Any other id is
 * looked for among the users, by id, then by email (an index read since the user-email-index
 * migration; a scan of LiteLLM_UserTable without it), only for a caller whose credential was
 * accepted. For one
 * refused (an unknown key, a token that fails verification) the id is dropped unasked: the key
 * checks refuse it whatever the answer, and the end-user checks before them read the customer
 * row alone, so only a refusal's dynamic metadata could tell; a stranger varying ids must not buy
 * user lookups per request with it.
 */
export function keptEndUserId(store: AuthStore, endUserId: string, customer: EndUser | null, credentialAccepted: boolean): MaybePromise<string | null> {
  if (customer !== null) return endUserId;
  if (!credentialAccepted) return null;
  return andThen(userOf(store, endUserId), (user) =>
    user !== null ? endUserId : andThen(userIdByEmailOf(store, endUserId), (userId) => (userId !== null ? endUserId : null)),
  );
}
