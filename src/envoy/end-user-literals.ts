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
  const top = memberTexts(text, maxDepth);
  return {
    user: user ? top.get('user') : undefined,
    litellmMetadataUser: litellmMetadataUser ? nestedText(top.get('litellm_metadata'), 'user', maxDepth) : undefined,
    metadataUserId: metadataUserId ? nestedText(top.get('metadata'), 'user_id', maxDepth) : undefined,
    safetyIdentifier: safetyIdentifier ? top.get('safety_identifier') : undefined,
  };
}

/** Each top-level member's value as written; a repeated name keeps its last value, as JSON.parse does. */
function memberTexts(text: string, maxDepth: number): Map<string, string> {
  const values = new Map<string, string>();
  forEachMember(new TextJson(text), (name, from, to) => values.set(name, text.slice(from, to)), maxDepth);
  return values;
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
  return memberTexts(objectText, maxDepth).get(name);
}
