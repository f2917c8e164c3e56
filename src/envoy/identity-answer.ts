/**
 * The identity part of an answer: the upstream headers and the dynamic-metadata fields that say
 * who the caller is (spec README §3).
 *
 * Both depend only on the identity's values, and those repeat on every Check of a warm key. So
 * they are built once per distinct set of values and then shared, frozen, by every answer that
 * carries the same values. Under load each object a Check leaves behind costs CPU
 * (docs/performance.md, "What a KB of garbage costs under load"), and the frozen objects also let
 * the encoder reuse their bytes (check-response-encoder.ts).
 *
 * A reused answer is only ever one built from equal values: every lookup compares them all, so a
 * renamed alias or a new model shows in the very next answer.
 */
import type { Identity } from '../domain/decision';
import { modelLabel, type RequestFacts } from '../domain/request';
import type { HeaderValueOption, StructValue } from './messages';

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

/** Every identity header Tollgate owns: the upstream trusts these names, so only Tollgate may set them. */
export const IDENTITY_HEADERS: ReadonlySet<string> = new Set(IDENTITY_FIELDS.map(([, header]) => header));

/**
 * The identity headers an answer does not send, by the bit mask of those it does (bit i for
 * IDENTITY_FIELDS[i]). Filled once per mask and then shared, frozen, by every answer of that
 * shape: at most 2^9 lists for the whole process, none built per Check.
 */
const unsentByMask: (readonly string[] | undefined)[] = [];

function unsentHeaders(sentMask: number): readonly string[] {
  let unsent = unsentByMask[sentMask];
  if (unsent === undefined) {
    unsent = Object.freeze(IDENTITY_FIELDS.filter((_, i) => (sentMask & (1 << i)) === 0).map(([, header]) => header));
    unsentByMask[sentMask] = unsent;
  }
  return unsent;
}

/**
 * Callers remembered (by key hash; without a key, by user, team, organization or end user: a JWT
 * caller's token may name only a team). A few thousand covers the keys one
 * replica serves warm; past that, an answer is built as if never seen, which costs what it did
 * before this cache, no more. Each entry holds a few hundred bytes of small objects.
 */
export const IDENTITY_ANSWERS_REMEMBERED = 4_096;

/** Variants kept per caller: a key used for several models, or on behalf of several end users. */
const VARIANTS_PER_CALLER = 4;

export interface IdentityAnswer {
  /** The value sent for each of IDENTITY_FIELDS, or undefined when none is. */
  readonly values: readonly (string | undefined)[];
  /** Upstream headers: every value valid in an HTTP header, each overwriting a client's copy. */
  readonly headers: readonly HeaderValueOption[];
  /**
   * The identity headers not in `headers`, for Envoy to remove whether or not the CheckRequest
   * showed them: `allowed_headers` can hide a client's copy from Tollgate, never from the upstream.
   */
  readonly unsent: readonly string[];
  /** Dynamic metadata: every value, snake_case keys. */
  readonly fields: Readonly<Record<string, StructValue>>;
  readonly hasFields: boolean;
}

/**
 * The value sent for an identity field, or undefined. End user and model fall back to what the
 * request named. A value holding the presented secret is never sent: an alias or user id typed
 * as the key itself must not carry it upstream.
 */
function valueOf(identity: Identity, facts: RequestFacts, field: keyof Identity, secret: string | null): string | undefined {
  const value =
    field === 'endUserId'
      ? (identity.endUserId ?? facts.endUserId ?? undefined)
      : field === 'model'
        ? (identity.model ?? modelLabel(facts.model) ?? undefined)
        : identity[field];
  if (value === undefined || value === '' || (secret !== null && value.includes(secret))) return undefined;
  return value;
}

/** HTTP forbids control characters other than tab in header values; with validate_mutations Envoy
 *  answers 500 to such a mutation. A key alias typed with a newline is left to the metadata instead. */
function isValidHeaderValue(value: string): boolean {
  // eslint-disable-next-line no-control-regex
  return !/[\x00-\x08\x0a-\x1f\x7f]/.test(value);
}

/** append_action is always explicit: its proto3 default (0) would append to a client-sent value. */
export function overwrite(key: string, value: string): HeaderValueOption {
  return { header: { key, value }, append_action: 'OVERWRITE_IF_EXISTS_OR_ADD' };
}

function build(identity: Identity, facts: RequestFacts, secret: string | null): IdentityAnswer {
  const values: (string | undefined)[] = [];
  const headers: HeaderValueOption[] = [];
  const fields: Record<string, StructValue> = {};
  let hasFields = false;
  let sentMask = 0;
  for (let i = 0; i < IDENTITY_FIELDS.length; i += 1) {
    const [field, header, key] = IDENTITY_FIELDS[i] as readonly [keyof Identity, string, string];
    const value = valueOf(identity, facts, field, secret);
    values.push(value);
    if (value === undefined) continue;
    fields[key] = Object.freeze({ stringValue: value });
    hasFields = true;
    if (!isValidHeaderValue(value)) continue;
    headers.push(deepFrozen(overwrite(header, value)));
    sentMask |= 1 << i;
  }
  return Object.freeze({
    values: Object.freeze(values),
    headers: Object.freeze(headers),
    unsent: unsentHeaders(sentMask),
    fields: Object.freeze(fields),
    hasFields,
  });
}

function deepFrozen(option: HeaderValueOption): HeaderValueOption {
  if (option.header !== undefined) Object.freeze(option.header);
  return Object.freeze(option);
}

/** Whether `answer` was built from the values this Check would send; compared in place, no list. */
function sendsSameValues(answer: IdentityAnswer, identity: Identity, facts: RequestFacts, secret: string | null): boolean {
  const values = answer.values;
  for (let i = 0; i < IDENTITY_FIELDS.length; i += 1) {
    const field = (IDENTITY_FIELDS[i] as readonly [keyof Identity, string, string])[0];
    if (values[i] !== valueOf(identity, facts, field, secret)) return false;
  }
  return true;
}

/**
 * Whom the answers are remembered under. Only a grouping: every answer is compared value by value
 * before reuse, so two callers landing on one entry share its variants, never each other's answers.
 * Prefixed so that a team and a user of the same name do not crowd one entry.
 */
function callerOf(identity: Identity): string | undefined {
  if (identity.keyHash !== undefined) return identity.keyHash;
  if (identity.userId !== undefined) return identity.userId;
  if (identity.teamId !== undefined) return `team:${identity.teamId}`;
  if (identity.orgId !== undefined) return `org:${identity.orgId}`;
  if (identity.endUserId !== undefined) return `end-user:${identity.endUserId}`;
  return undefined;
}

/** A bounded memory of identity answers, oldest caller forgotten first. */
export class IdentityAnswers {
  private readonly byCaller = new Map<string, IdentityAnswer[]>();

  constructor(private readonly maxCallers: number = IDENTITY_ANSWERS_REMEMBERED) {}

  /** Callers remembered now (for tests of the bound). */
  get size(): number {
    return this.byCaller.size;
  }

  /**
   * `remember`: keep a newly built answer. Denials pass false: a flood of made-up keys (each its
   * own 401) would otherwise push the callers that are allowed out of the memory.
   */
  answerFor(identity: Identity, facts: RequestFacts, secret: string | null, remember = true): IdentityAnswer {
    const caller = callerOf(identity);
    if (caller === undefined) return build(identity, facts, secret);
    let variants = this.byCaller.get(caller);
    if (variants !== undefined) {
      for (const answer of variants) if (sendsSameValues(answer, identity, facts, secret)) return answer;
    }
    if (!remember) return build(identity, facts, secret);
    if (variants === undefined) {
      if (this.byCaller.size >= this.maxCallers) this.forgetOldest();
      variants = [];
      this.byCaller.set(caller, variants);
    }
    const answer = build(identity, facts, secret);
    // Newest first; the oldest variant makes room.
    variants.unshift(answer);
    if (variants.length > VARIANTS_PER_CALLER) variants.pop();
    return answer;
  }

  private forgetOldest(): void {
    // A Map iterates in insertion order: its first key is the caller remembered longest ago.
    for (const caller of this.byCaller.keys()) {
      this.byCaller.delete(caller);
      return;
    }
  }
}
