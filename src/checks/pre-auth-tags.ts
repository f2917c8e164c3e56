/**
 * The request's tags as newer LiteLLM's tag budget check reads them: before `common_checks` its
 * auth merges into the request the tags a client sends in a header and the tags its key carries,
 * then reads them back with `get_tags_from_request_body` (litellm-auth.md §4.12):
 *
 * 1. `pre_seed_litellm_metadata_for_route`: on a route holding one of LITELLM_METADATA_ROUTES the
 *    body gets an empty `litellm_metadata` when it has none, so the tags live there (not in a
 *    `metadata` the provider would be sent) and `metadata.tags` is not read on such a route.
 * 2. `apply_client_tag_policy_pre_auth`: the `x-litellm-tags` header, split on commas and each
 *    part stripped (empty ones dropped), is merged into that container's `tags`. For every caller: the
 *    `allow_client_tags` opt-in that once stripped client tags was removed before this merge
 *    shipped, and the body's tags are kept as sent.
 * 3. `apply_key_tags_pre_auth` (in `common_checks`, before the tag budget check): the key's own
 *    `metadata.tags` merged the same way. The team's and the project's tags are merged only after
 *    auth (`add_litellm_data_to_request`): LiteLLM charges them but does not check them here.
 * 4. `get_tags_from_request_body`: the container's tags, then the body's top-level `tags`,
 *    strings only, repeats kept.
 *
 * A merge is LiteLLM's `_merge_tags`: the list already there (if a non-empty list), then each
 * added tag not already in it. The same list is what the budget reservation counts
 * (`_get_tag_budget_counters`, without repeats) and what Tollgate charges (spend/admission.ts).
 */
import type { Json, JsonObject } from '../domain/entities';
import { pyStrip } from '../util/python-strip';
import { metadataAsObject } from './request-metadata';

/** `LITELLM_METADATA_ROUTES`: a route holding one of these keeps its tags in `litellm_metadata`. */
export const LITELLM_METADATA_ROUTES: readonly string[] = Object.freeze(['batches', '/v1/messages', 'responses', 'files', 'bedrock']);

export const CLIENT_TAGS_HEADER = 'x-litellm-tags';

/** What the merge reads of the request: the body it checks or charges, its route and headers. */
export interface TaggedRequest {
  readonly route: string;
  readonly headers: Readonly<Record<string, string>>;
}

const NO_TAGS: readonly string[] = Object.freeze([]);
const NO_BODY: Readonly<Record<string, Json>> = Object.freeze({});

/** The metadata container LiteLLM's tag reader uses once the route's `litellm_metadata` is seeded. */
export function tagContainerName(body: Readonly<Record<string, Json>>, route: string): 'litellm_metadata' | 'metadata' {
  if (Object.hasOwn(body, 'litellm_metadata')) return 'litellm_metadata';
  return LITELLM_METADATA_ROUTES.some((part) => route.includes(part)) ? 'litellm_metadata' : 'metadata';
}

/**
 * `x-litellm-tags: a, b` → `['a', 'b']`: split on commas, each part stripped, empty parts dropped
 * (`apply_client_tag_policy_pre_auth`). Null when that leaves no tag, or without the header.
 */
export function headerTags(headers: Readonly<Record<string, string>>): readonly string[] | null {
  const value = headers[CLIENT_TAGS_HEADER];
  if (value === undefined) return null;
  const tags = value.split(',').map(pyStrip).filter((tag) => tag !== '');
  return tags.length === 0 ? null : tags;
}

/**
 * The tags the client controls (body and header), without the key's: what is known before any
 * lookup, and what Tollgate bounds (checks/request-tag-count.ts).
 */
export function clientRequestTags(body: Readonly<Record<string, Json>> | null, request: TaggedRequest): readonly string[] {
  return mergedRequestTags(body, request, null);
}

/**
 * The list `get_tags_from_request_body` returns to the tag budget check once the header's and the
 * key's tags are merged in. `keyMetadata` is the key's `metadata` (null: no key, as for a JWT).
 * Computed once for a request: the loader, the checks and the admission each ask for it.
 */
export function preAuthRequestTags(
  body: Readonly<Record<string, Json>> | null,
  request: TaggedRequest,
  keyMetadata: JsonObject | null,
): readonly string[] {
  if (body === lastBody && request.headers === lastHeaders && request.route === lastRoute && keyMetadata === lastKeyMetadata) return lastTags;
  const tags = mergedRequestTags(body, request, keyMetadata);
  // Kept in place, not as a new object: this runs on every Check.
  lastBody = body;
  lastHeaders = request.headers;
  lastRoute = request.route;
  lastKeyMetadata = keyMetadata;
  lastTags = tags;
  return tags;
}

// The inputs are frozen request facts and cached rows: the same objects give the same list.
let lastBody: Readonly<Record<string, Json>> | null = null;
let lastHeaders: Readonly<Record<string, string>> | null = null;
let lastRoute = '';
let lastKeyMetadata: JsonObject | null = null;
let lastTags: readonly string[] = NO_TAGS;

function mergedRequestTags(
  requestBody: Readonly<Record<string, Json>> | null,
  request: TaggedRequest,
  keyMetadata: JsonObject | null,
): readonly string[] {
  const body = requestBody ?? NO_BODY;
  const fromHeader = headerTags(request.headers);
  const fromKey = nonEmptyList(keyMetadata?.['tags']);
  const fromContainer = nonEmptyList(metadataAsObject(body[tagContainerName(body, request.route)])?.['tags']);
  const fromRoot = nonEmptyList(body['tags']);
  // Most requests name no tags and most keys carry none: nothing is built for them.
  if (fromHeader === null && fromKey === null && fromContainer === null && fromRoot === null) return NO_TAGS;
  const container: Json[] = fromContainer === null ? [] : [...fromContainer];
  mergeInto(container, fromHeader);
  mergeInto(container, fromKey);
  const tags = fromRoot === null ? container : [...container, ...fromRoot];
  return tags.filter((tag): tag is string => typeof tag === 'string');
}

function nonEmptyList(value: Json | undefined): readonly Json[] | null {
  return Array.isArray(value) && value.length > 0 ? value : null;
}

/** `_merge_tags`: each added tag not already in the list. Only strings are read in the end, and a string equals only a string. */
function mergeInto(tags: Json[], added: readonly Json[] | null): void {
  if (added === null) return;
  for (const tag of added) if (typeof tag !== 'string' || !tags.includes(tag)) tags.push(tag);
}
