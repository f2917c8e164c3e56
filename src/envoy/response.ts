/**
 * Decision → CheckResponse (spec README §3, envoy-ext-authz.md §3).
 */
import type { Settings } from '../config/settings';
import type { Denial } from '../checks/types';
import type { Decision, Identity } from '../domain/decision';
import type { Credential, RequestFacts } from '../domain/request';
import { QUERY_KEY_CREDENTIAL } from './credential';
import { lowerCased } from './headers';
import { toStruct, type CheckResponse, type HeaderValueOption, type OkHttpResponse, type StructValue } from './messages';
import { modelLabel } from './request-model';
import { hasOwnKeys } from '../util/own-keys';

export type ResponseSettings = Pick<Settings, 'forwardCredentials'>;

export const TOLLGATE_HEADER_PREFIX = 'x-tollgate-';

/** gRPC status codes Envoy reads in CheckResponse.status (0 allows, anything else denies). */
const GRPC_OK = 0;
const GRPC_PERMISSION_DENIED = 7;
const GRPC_UNAUTHENTICATED = 16;

/** Identity field → upstream header and dynamic-metadata key, in the order they are sent. */
const IDENTITY_FIELDS: ReadonlyArray<readonly [keyof Identity, string, string]> = [
  ['keyHash', 'x-tollgate-key-hash', 'key_hash'],
  ['keyAlias', 'x-tollgate-key-alias', 'key_alias'],
  ['userId', 'x-tollgate-user-id', 'user_id'],
  ['teamId', 'x-tollgate-team-id', 'team_id'],
  ['orgId', 'x-tollgate-org-id', 'org_id'],
  ['projectId', 'x-tollgate-project-id', 'project_id'],
  ['endUserId', 'x-tollgate-end-user-id', 'end_user_id'],
  ['userRole', 'x-tollgate-user-role', 'user_role'],
  ['model', 'x-tollgate-model', 'model'],
];

/** Shorter secrets are not searched for in other values (too many false matches to be useful);
 *  LiteLLM's documented example master key "sk-1234" is still long enough. */
const MIN_SECRET_LENGTH = 6;

export function toCheckResponse(decision: Decision, facts: RequestFacts, settings: ResponseSettings): CheckResponse {
  // One pass over the identity fields builds both the metadata and (on allow) the headers: this
  // runs on every Check, so no intermediate objects, arrays or sets.
  const secret = facts.credential.kind === 'present' ? facts.credential.value : null;
  const extra = decision.kind === 'allow' ? decision.metadata : undefined;
  const extraFields = extra === undefined || !hasOwnKeys(extra) ? undefined : toStruct(extra).fields;
  const fields: Record<string, StructValue> = extraFields ?? {};
  let hasFields = extraFields !== undefined && hasOwnKeys(extraFields);
  const headers: HeaderValueOption[] = [];
  for (const [field, header, key] of IDENTITY_FIELDS) {
    const value = identityValue(decision.identity, facts, field);
    if (value === undefined || value === '' || (secret !== null && value.includes(secret))) continue;
    fields[key] = { stringValue: value };
    hasFields = true;
    if (decision.kind === 'allow' && isValidHeaderValue(value)) headers.push(overwrite(header, value));
  }
  // Metadata on a denial is dropped by current Envoy (envoy#12671) but costs nothing and is right once fixed.
  const metadata = hasFields ? { fields } : undefined;
  if (decision.kind === 'deny') {
    const response = denied(decision.denial, facts.credential);
    if (metadata !== undefined) response.dynamic_metadata = metadata;
    return response;
  }

  // Walked with `for…in`, which reads the names from the record's shape without listing them anew.
  // A client must not be able to pre-set identity headers the upstream trusts.
  const remove: string[] = [];
  for (const name in facts.headers) {
    if (name.startsWith(TOLLGATE_HEADER_PREFIX) && !isSent(headers, name)) remove.push(name);
  }
  let removeQueryKey = false;
  if (!settings.forwardCredentials) {
    const carrier = carrierHeader(decision.credentialHeader, facts.credential);
    if (carrier === QUERY_KEY_CREDENTIAL) removeQueryKey = true;
    else if (carrier !== null && !remove.includes(carrier)) remove.push(carrier);
    const key = keyToFind(facts.credential);
    if (key !== null) {
      for (const name in facts.headers) {
        if (repeatsKey(name, facts.headers[name] as string, key) && !remove.includes(name)) remove.push(name);
      }
    }
  }
  // Built field by field, not by spreading: object spread is among the costlier steps of a warm Check.
  const ok: OkHttpResponse = { headers, headers_to_remove: remove };
  if (removeQueryKey) ok.query_parameters_to_remove = ['key'];
  const response: CheckResponse = { status: { code: GRPC_OK }, ok_response: ok };
  if (metadata !== undefined) response.dynamic_metadata = metadata;
  return response;
}

/** An identity field's value; end user and model fall back to what the request named. */
function identityValue(identity: Identity, facts: RequestFacts, field: keyof Identity): string | undefined {
  if (field === 'endUserId') return identity.endUserId ?? facts.endUserId ?? undefined;
  if (field === 'model') return identity.model ?? modelLabel(facts.model) ?? undefined;
  return identity[field];
}

/** HTTP forbids control characters other than tab in header values; with validate_mutations Envoy
 *  answers 500 to such a mutation. A key alias typed with a newline is left to the metadata instead. */
function isValidHeaderValue(value: string): boolean {
  // eslint-disable-next-line no-control-regex
  return !/[\x00-\x08\x0a-\x1f\x7f]/.test(value);
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

/** Pseudo-headers and Host cannot be removed by Envoy, so they are never listed. */
function repeatsKey(name: string, value: string, secret: string): boolean {
  // The length test first: most header values are shorter than a key and cannot hold one.
  return value.length >= secret.length && !name.startsWith(':') && name !== 'host' && value.includes(secret);
}

/** Whether the answer sets this header itself (then the client's value is overwritten, not removed). */
function isSent(headers: readonly HeaderValueOption[], name: string): boolean {
  for (const option of headers) if (option.header?.key === name) return true;
  return false;
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

/** append_action is always explicit: its proto3 default (0) would append to a client-sent value. */
function overwrite(key: string, value: string): HeaderValueOption {
  return { header: { key, value }, append_action: 'OVERWRITE_IF_EXISTS_OR_ADD' };
}

