/**
 * Decision → CheckResponse (spec README §3, envoy-ext-authz.md §3).
 */
import type { Settings } from '../config/settings';
import type { Denial } from '../checks/types';
import type { Decision } from '../domain/decision';
import type { Json } from '../domain/entities';
import type { Credential, RequestFacts } from '../domain/request';
import { offersSubprotocolKey, QUERY_KEY_CREDENTIAL, SUBPROTOCOL_HEADER, subprotocolsWithoutKey } from './credential';
import { headerValue, lowerCased } from './headers';
import { percentDecode } from './route';
import { IDENTITY_HEADERS, IdentityAnswers, overwrite, type IdentityAnswer } from './identity-answer';
import { toStruct, type CheckResponse, type OkHttpResponse, type Struct, type StructValue } from './messages';
import { hasOwnKeys } from '../util/own-keys';

export type ResponseSettings = Pick<Settings, 'forwardCredentials'>;

export const TOLLGATE_HEADER_PREFIX = 'x-tollgate-';

/** gRPC status codes Envoy reads in CheckResponse.status (0 allows, anything else denies). */
const GRPC_OK = 0;
const GRPC_PERMISSION_DENIED = 7;
const GRPC_UNAUTHENTICATED = 16;

/** Shorter secrets are not searched for in other values (too many false matches to be useful);
 *  LiteLLM's documented example master key "sk-1234" is still long enough. */
const MIN_SECRET_LENGTH = 6;

/** Up to this many names, a list is scanned rather than indexed. */
const LISTED_SCAN_LIMIT = 32;

/** The identity parts of answers, shared by the Checks of a warm key. */
const identityAnswers = new IdentityAnswers();

export function toCheckResponse(decision: Decision, facts: RequestFacts, settings: ResponseSettings): CheckResponse {
  const secret = facts.credential.kind === 'present' ? facts.credential.value : null;
  const identity = identityAnswers.answerFor(decision.identity, facts, secret, decision.kind === 'allow');
  // Metadata on a denial is dropped by current Envoy (envoy#12671) but costs nothing and is right once fixed.
  const metadata = metadataOf(identity, decision.kind === 'allow' ? decision.metadata : undefined);
  if (decision.kind === 'deny') {
    const response = denied(decision.denial, facts.credential);
    if (metadata !== undefined) response.dynamic_metadata = metadata;
    return response;
  }

  let headers = identity.headers;
  // A client must not be able to pre-set identity headers the upstream trusts. Every identity
  // header this answer does not overwrite is removed even when the request did not show it: an
  // ext_authz `allowed_headers` list hides a client's copy from Tollgate, not from the upstream.
  // The list starts as the answer's shared one and is copied only when this request adds a name.
  let remove: readonly string[] = identity.unsent;
  // Other x-tollgate-* names are not Tollgate's to set, so they go only when the request shows
  // them; so do their underscore spellings (x_tollgate_team_id), which CGI-style upstreams read as
  // the identity header itself. Walked with `for…in`, which reads the names from the record's
  // shape without listing them anew.
  for (const name in facts.headers) {
    if (name.startsWith(TOLLGATE_HEADER_PREFIX) ? !IDENTITY_HEADERS.has(name) : spellsTollgateHeader(name)) remove = withName(remove, name);
  }
  let queryToRemove: string[] | null = null;
  if (!settings.forwardCredentials) {
    const carrier = carrierHeader(decision.credentialHeader, facts.credential);
    const key = keyToFind(facts.credential);
    const protocols = headerValue(facts.headers, SUBPROTOCOL_HEADER);
    // The subprotocols a WebSocket client offered must reach the upstream, which echoes one or the
    // client drops the connection: only the entries holding a key are taken out, an
    // openai-insecure-api-key one even when another header carried the key checked.
    const keyInProtocols =
      protocols !== undefined && (carrier === SUBPROTOCOL_HEADER || offersSubprotocolKey(protocols) || (key !== null && protocols.includes(key)));
    if (keyInProtocols) {
      const rest = subprotocolsWithoutKey(protocols, key);
      if (rest === null) remove = withName(remove, SUBPROTOCOL_HEADER);
      else headers = [...headers, overwrite(SUBPROTOCOL_HEADER, rest)];
    }
    if (carrier === QUERY_KEY_CREDENTIAL) queryToRemove = ['key'];
    else if (carrier !== null && carrier !== SUBPROTOCOL_HEADER && !remove.includes(carrier)) remove = withCarrier(remove, carrier);
    if (key !== null) {
      // A name is listed once; past a few names, a Set says which are (a request with many
      // x-tollgate-* headers would otherwise cost a scan of the list per header).
      let listed: Set<string> | null = null;
      for (const name in facts.headers) {
        // An identity header is overwritten or already removed: removing it here would drop the value Tollgate sets.
        if (IDENTITY_HEADERS.has(name) || !repeatsKey(name, facts.headers[name] as string, key)) continue;
        if (keyInProtocols && name === SUBPROTOCOL_HEADER) continue;
        if (listed === null && remove.length > LISTED_SCAN_LIMIT) listed = new Set(remove);
        if (listed !== null ? listed.has(name) : remove.includes(name)) continue;
        listed?.add(name);
        remove = withName(remove, name);
      }
      // The same key in the query (`?key=` next to an x-goog-api-key header) would reach the provider in the URL.
      queryToRemove = queryParametersHolding(facts.path, key, queryToRemove);
    }
  }
  // Built field by field, not by spreading: object spread is among the costlier steps of a warm Check.
  const ok: OkHttpResponse = { headers, headers_to_remove: remove };
  if (queryToRemove !== null) ok.query_parameters_to_remove = queryToRemove;
  const response: CheckResponse = { status: { code: GRPC_OK }, ok_response: ok };
  if (metadata !== undefined) response.dynamic_metadata = metadata;
  return response;
}

/**
 * The identity's fields, after any the admission added (`request_tags`, `rate_limit`). Without
 * those, the identity's own frozen fields serve as they are.
 */
function metadataOf(identity: IdentityAnswer, extra: Readonly<Record<string, Json>> | undefined): Struct | undefined {
  if (extra === undefined || !hasOwnKeys(extra)) return identity.hasFields ? { fields: identity.fields } : undefined;
  const fields = toStruct(extra).fields as Record<string, StructValue>;
  // An identity field of the same name wins, as the identity is what Tollgate vouches for.
  Object.assign(fields, identity.fields);
  return hasOwnKeys(fields) ? { fields } : undefined;
}

/**
 * A shared list with the credential's carrier added, itself shared: the usual allow removes just
 * the unsent identity headers and the carrier, and then needs no list of its own. The carriers are
 * the few credential header names (LiteLLM's and the configured one); the count per list is
 * bounded all the same.
 */
const withCarrierByList = new Map<readonly string[], Map<string, readonly string[]>>();
const CARRIERS_REMEMBERED = 16;

function withCarrier(remove: readonly string[], carrier: string): readonly string[] {
  if (!Object.isFrozen(remove)) return withName(remove, carrier);
  let byCarrier = withCarrierByList.get(remove);
  if (byCarrier === undefined) {
    byCarrier = new Map();
    withCarrierByList.set(remove, byCarrier);
  }
  let shared = byCarrier.get(carrier);
  if (shared === undefined) {
    shared = Object.freeze([...remove, carrier]);
    if (byCarrier.size < CARRIERS_REMEMBERED) byCarrier.set(carrier, shared);
  }
  return shared;
}

/** `remove` with `name` added: a frozen list is shared by other answers, so it is copied, never changed. */
function withName(remove: readonly string[], name: string): readonly string[] {
  if (Object.isFrozen(remove)) return [...remove, name];
  (remove as string[]).push(name);
  return remove;
}

/** The header that carried the credential (lower-cased), or null when none did. */
function carrierHeader(credentialHeader: string | null, credential: Credential): string | null {
  const header = credentialHeader ?? headerOf(credential);
  return header === null ? null : lowerCased(header);
}

/**
 * The key to look for in the other headers (e.g. both Authorization and x-api-key carry it): the
 * virtual key must not reach the upstream. Null when there is none long enough to search for.
 */
function keyToFind(credential: Credential): string | null {
  return credential.kind === 'present' && credential.value.length >= MIN_SECRET_LENGTH ? keyMaterial(credential.value) : null;
}

/** `x_tollgate_team_id`, `x-tollgate_team-id`, …: an underscore spelling of an x-tollgate-* name. */
function spellsTollgateHeader(name: string): boolean {
  return name.length > TOLLGATE_HEADER_PREFIX.length && name.includes('_') && name.replace(UNDERSCORES, '-').startsWith(TOLLGATE_HEADER_PREFIX);
}

const UNDERSCORES = /_/g;

/**
 * The names of the query parameters whose value holds the key (decoded, as the upstream reads
 * them), added to `names`. Null when there are none and `names` was null.
 */
function queryParametersHolding(path: string, key: string, names: string[] | null): string[] | null {
  const start = path.indexOf('?');
  if (start < 0) return names;
  for (const pair of path.slice(start + 1).split('&')) {
    // A parameter without `=` is a name alone, which Envoy removes as such.
    const eq = pair.indexOf('=');
    const name = eq < 0 ? pair : pair.slice(0, eq);
    if (!decodedLeniently(pair).includes(key)) continue;
    names ??= [];
    if (!names.includes(name)) names.push(name);
  }
  return names;
}

/** As the upstream reads it: `+` is a space, each valid %XX a byte, a malformed escape kept (Python's unquote_plus). */
function decodedLeniently(text: string): string {
  return text.includes('%') || text.includes('+') ? percentDecode(text.replace(PLUS, ' ')) : text;
}

const PLUS = /\+/g;

/** Pseudo-headers and Host cannot be removed by Envoy, so they are never listed. */
function repeatsKey(name: string, value: string, secret: string): boolean {
  // The length test first: most header values are shorter than a key and cannot hold one.
  return value.length >= secret.length && !name.startsWith(':') && name !== 'host' && value.includes(secret);
}

/**
 * The key inside a credential value. LiteLLM hashes a raw-key header's value whole ("Bearer
 * Bearer sk-…", stray spaces included) while the bare sk-… may travel in another header too;
 * searching for the sk- token finds every copy (a header holding the value holds the token).
 */
function keyMaterial(value: string): string {
  if (value.startsWith('sk-') && !/[\s,/=]/.test(value)) return value; // the usual case: a bare key
  return value.split(/[\s,/=]+/).find((token) => token.startsWith('sk-') && token.length >= MIN_SECRET_LENGTH) ?? value;
}

function headerOf(credential: Credential): string | null {
  return credential.kind === 'none' ? null : credential.header;
}

function denied(denial: Denial, credential: Credential): CheckResponse {
  const status = validHttpStatus(denial.status);
  const secret = credential.kind === 'present' && credential.value.length >= MIN_SECRET_LENGTH ? credential.value : null;
  const message = secret === null ? denial.message : denial.message.split(secret).join(abbreviate(secret));
  return {
    status: {
      code: status === 401 ? GRPC_UNAUTHENTICATED : GRPC_PERMISSION_DENIED,
      message: `${status} ${denial.type}`,
    },
    denied_response: {
      // type.v3.StatusCode's numbers are the HTTP statuses themselves.
      status: { code: status },
      headers: [overwrite('content-type', 'application/json'), ...(denial.headers ?? []).map(([name, value]) => overwrite(name, value))],
      body: JSON.stringify({ error: { message, type: denial.type, param: denial.param, code: String(status) } }),
    },
  };
}

/** A status outside HTTP's range would make Envoy answer something else entirely. */
function validHttpStatus(status: number): number {
  return Number.isInteger(status) && status >= 200 && status <= 599 ? status : 500;
}

/** LiteLLM's abbreviate_api_key: "sk-..." + the last 4 characters. */
function abbreviate(key: string): string {
  return `sk-...${key.slice(-4)}`;
}
