/**
 * The request's tags as names to load and to charge: LiteLLM's `get_tags_from_request_body`
 * (litellm-auth.md §4.12, `requestTags`, which the tag-budget check reads too), each name once.
 */
import { requestTags } from '../checks/request-metadata';
import type { Json } from '../domain/entities';
import { distinct } from '../util/distinct';

const NO_TAGS: readonly string[] = Object.freeze([]);

export function tagsFromBody(body: Readonly<Record<string, Json>> | null): readonly string[] {
  if (body === null) return NO_TAGS;
  return distinct(requestTags(body));
}
