/**
 * The literals of end-user ids a body writes as numbers. LiteLLM names the end user by Python's
 * `str()` of the parsed value: every digit of a big int (`1234567890123456789`), `1.0` for a
 * float. A JavaScript number rounds the first and prints `1` for the second, naming another
 * customer row, so the text is read again for the one field that holds a number.
 */
import type { Json, JsonObject } from '../domain/entities';
import { metadataAsObject } from '../checks/request-metadata';
import { forEachMember, TextJson } from './json-text';

/** The fields envoy/end-user.ts names the end user by, where a number may stand. */
export interface EndUserLiterals {
  readonly user?: string;
  readonly litellmMetadataUser?: string;
  readonly metadataUserId?: string;
  readonly safetyIdentifier?: string;
}

function isObject(value: Json | undefined): value is JsonObject {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** Cheap, on every Check with a body: could one of the fields hold a number? */
export function mayHoldNumericEndUser(body: JsonObject): boolean {
  const { user, litellm_metadata: litellmMetadata, metadata, safety_identifier: safetyIdentifier } = body;
  return (
    typeof user === 'number' ||
    typeof safetyIdentifier === 'number' ||
    (isObject(litellmMetadata) ? typeof litellmMetadata['user'] === 'number' : typeof litellmMetadata === 'string') ||
    (isObject(metadata) ? typeof metadata['user_id'] === 'number' : typeof metadata === 'string')
  );
}

/** The literal of each field that holds a number in `body`, read from `text` (the body as sent). */
export function endUserLiteralsOf(text: string, body: JsonObject, maxDepth: number): EndUserLiterals | undefined {
  const user = typeof body['user'] === 'number';
  const litellmMetadataUser = typeof metadataAsObject(body['litellm_metadata'])?.['user'] === 'number';
  const metadataUserId = typeof metadataAsObject(body['metadata'])?.['user_id'] === 'number';
  const safetyIdentifier = typeof body['safety_identifier'] === 'number';
  if (!user && !litellmMetadataUser && !metadataUserId && !safetyIdentifier) return undefined;
  return {
    user: user ? memberText(text, 'user', maxDepth) : undefined,
    litellmMetadataUser: litellmMetadataUser ? nestedText(memberText(text, 'litellm_metadata', maxDepth), 'user', maxDepth) : undefined,
    metadataUserId: metadataUserId ? nestedText(memberText(text, 'metadata', maxDepth), 'user_id', maxDepth) : undefined,
    safetyIdentifier: safetyIdentifier ? memberText(text, 'safety_identifier', maxDepth) : undefined,
  };
}

/**
 * The value of member `name` as written at the top level of `text`; a repeated name gives its last
 * value, as JSON.parse keeps. Only the wanted member is sliced: a body of many members costs one walk.
 */
function memberText(text: string, name: string, maxDepth: number): string | undefined {
  let from = -1;
  let to = -1;
  forEachMember(
    new TextJson(text),
    (key, start, end) => {
      if (key === name) {
        from = start;
        to = end;
      }
    },
    maxDepth,
  );
  return from === -1 ? undefined : text.slice(from, to);
}

/** A member of the object `container` writes, itself or inside a JSON string (metadata sent as text). */
function nestedText(container: string | undefined, name: string, maxDepth: number): string | undefined {
  if (container === undefined) return undefined;
  let objectText = container;
  if (container.startsWith('"')) {
    try {
      objectText = JSON.parse(container) as string;
    } catch {
      return undefined;
    }
  }
  return memberText(objectText, name, maxDepth);
}
