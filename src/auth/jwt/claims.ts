/**
 * Reading JWT claims the way LiteLLM does (`dot_notation_indexing.get_nested_value`,
 * `JWTHandler.get_scopes`). Claims are verified JSON; nothing here trusts their types.
 */
import type { Json, JsonObject } from '../../domain/entities';
import { authErrorFromException } from '../../checks/errors';
import { pyFloat } from '../../checks/python-format';
import type { Denial } from '../../checks/types';
import { isWrittenFloat } from './written-floats';

export type Claims = Readonly<JsonObject>;

/** The value was not there (distinct from a claim that is present and null). */
export const MISSING = Symbol('missing');

/**
 * `get_nested_value`: a dot path into the claims. A leading `metadata.` is dropped (LiteLLM test
 * `test_metadata_prefix_handling_in_nested_fields`), `\.` escapes a dot inside a key, and a path
 * through a non-object (a list, a string) is missing: list indices are not supported.
 */
export function claimAt(claims: Claims, path: string | null): Json | typeof MISSING {
  const found = locate(claims, path);
  return found === MISSING ? MISSING : found.value;
}

/**
 * A claim as an id reads it: its value, and whether the payload wrote that value (a list: its
 * first element) as a float (written-floats.ts), which Python prints `1.0` where JavaScript prints `1`.
 */
export interface ClaimRead {
  readonly value: Json;
  readonly float: boolean;
}

/** `claimAt`, with how the number there was written. */
export function claimReadAt(claims: Claims, path: string | null): ClaimRead | typeof MISSING {
  const found = locate(claims, path);
  if (found === MISSING) return MISSING;
  const { value, parent, key } = found;
  const float = Array.isArray(value) ? isWrittenFloat(value, 0) : isWrittenFloat(parent, key);
  return { value, float };
}

function locate(claims: Claims, path: string | null): { readonly value: Json; readonly parent: object; readonly key: string } | typeof MISSING {
  if (path === null || path === '') return MISSING;
  const stripped = path.startsWith('metadata.') ? path.slice('metadata.'.length) : path;
  // As LiteLLM: escaped dots become a placeholder, the path splits on the rest, dots come back.
  const keys = stripped.replaceAll('\\.', '\u0000').split('.').map((part) => part.replaceAll('\u0000', '.'));
  let parent: object = claims;
  let current: Json = claims as JsonObject;
  let last = '';
  for (const part of keys) {
    if (current === null || typeof current !== 'object' || Array.isArray(current) || !Object.hasOwn(current, part)) {
      return MISSING;
    }
    parent = current;
    last = part;
    current = (current as JsonObject)[part] as Json;
  }
  return { value: current, parent, key: last };
}

/**
 * An id claim as a string. Numbers are ids too (Python `str()` of an int); a list yields its
 * first element (newer LiteLLM, for IdPs that send groups as lists); anything else is no id.
 */
export function idAt(claims: Claims, path: string | null): string | null {
  return idOf(claimReadAt(claims, path));
}

/**
 * Whether the id `idOf` reads from this claim would come from an integer beyond 2^53. JSON.parse
 * (jose's, and Envoy's Struct, which holds doubles) rounds such a number to a neighbour: a `sub`
 * of 9007199254740993 arrives as 9007199254740992, another team's or user's id, where LiteLLM's
 * Python reads it exactly. No id can be read from it, and none may be guessed. A number the token
 * wrote as a float (`1e20`) is no such integer: Python reads the same double and prints it the same.
 */
export function isInexactId(read: ClaimRead | typeof MISSING): boolean {
  if (read === MISSING || read.float) return false;
  const { value } = read;
  const first = Array.isArray(value) ? (value[0] ?? null) : value;
  return typeof first === 'number' && Number.isInteger(first) && !Number.isSafeInteger(first);
}

/**
 * `idAt` of a value already read. A number reads as Python's `str()` prints it: `42` as "42", a
 * float the payload wrote `1.0` as "1.0" (JSON.parse alone would make it "1", the id of the claim `1`).
 */
export function idOf(read: ClaimRead | typeof MISSING): string | null {
  if (read === MISSING) return null;
  const { value, float } = read;
  const first = Array.isArray(value) ? (value[0] ?? null) : value;
  if (typeof first === 'string') return first === '' ? null : first;
  if (typeof first === 'number' && Number.isFinite(first)) return float ? pyFloat(first) : String(first);
  return null;
}

/**
 * A list-of-strings role claim. A single string counts as a one-element list. LiteLLM reads
 * roles without a default and would iterate a string's characters; no IdP means that, so
 * Tollgate does not.
 */
export function stringsAt(claims: Claims, path: string | null): string[] | null {
  const value = claimAt(claims, path);
  if (value === MISSING || value === null) return null;
  if (typeof value === 'string') return [value];
  if (!Array.isArray(value)) return null;
  return value.filter((v): v is string => typeof v === 'string');
}

/** Python's `type(x)` name for a JSON value, for LiteLLM's "Unmapped scope type" message. */
function pythonTypeName(value: Json): string {
  if (value === null) return 'NoneType';
  if (typeof value === 'boolean') return 'bool';
  if (typeof value === 'number') return Number.isInteger(value) ? 'int' : 'float';
  if (typeof value === 'object') return Array.isArray(value) ? 'list' : 'dict';
  return 'str';
}

/**
 * `get_scopes`: the `scope` claim, space-separated or a list; absent → none. Any other type is
 * LiteLLM's plain exception (401).
 */
export function scopesOf(claims: Claims): string[] | Denial {
  if (!Object.hasOwn(claims, 'scope')) return [];
  const scope = claims['scope'] as Json;
  if (typeof scope === 'string') return scope.split(/\s+/).filter((s) => s !== '');
  if (Array.isArray(scope)) return scope.filter((s): s is string => typeof s === 'string');
  return authErrorFromException(
    `Unmapped scope type - <class '${pythonTypeName(scope)}'>. Supported types - list, str.`,
  );
}

/**
 * `team_ids_jwt_field`: LiteLLM reads it with a list default, and its get_nested_value keeps only
 * a value of the default's type, so anything but a list (a single string too) names no team.
 */
export function listAt(claims: Claims, path: string | null): string[] {
  const value = claimAt(claims, path);
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
}

/**
 * `user_id_jwt_field`, read as LiteLLM's get_user_id reads it: with the email as its default, so
 * that when the token has an email only a string id is kept (get_nested_value keeps a value of
 * the default's type); without one, any id (idAt).
 */
export function userIdAt(claims: Claims, path: string | null, userEmail: string | null): string | null {
  if (userEmail === null) return idAt(claims, path);
  const value = claimAt(claims, path);
  return typeof value === 'string' && value !== '' ? value : userEmail;
}
