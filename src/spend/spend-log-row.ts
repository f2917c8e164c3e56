/**
 * A SpendEvent as a `LiteLLM_SpendLogs` row, in LiteLLM's columns and conventions: `api_key` is
 * the key hash, `user` the user id, `end_user` the customer, `request_tags` a JSON list, and the
 * caller's identity repeated in `metadata` under LiteLLM's `user_api_key_*` names.
 */
import { wellFormed, wellFormedJson } from '../util/well-formed';
import { createHash } from 'node:crypto';
import { promptTokensOf, totalTokensOf } from '../metering/usage';
import { toSqlUtc } from '../store/spend-window';
import type { SpendEvent } from './spend-event';

/** Column order of the INSERT; every other column keeps its default. */
export const SPEND_LOG_COLUMNS = [
  'request_id',
  'call_type',
  'api_key',
  'spend',
  'total_tokens',
  'prompt_tokens',
  'completion_tokens',
  'startTime',
  'endTime',
  'request_duration_ms',
  'completionStartTime',
  'model',
  'model_group',
  'user',
  'metadata',
  'request_tags',
  'team_id',
  'organization_id',
  'end_user',
  'status',
] as const;

export type SpendLogValue = string | number | null;

/** VARCHAR(255) columns: a longer value would fail the whole batch on a strict MySQL, forever. */
const MAX_VARCHAR = 255;

function clip(value: string): string;
function clip(value: string | null): string | null;
function clip(value: string | null): string | null {
  if (value === null) return null;
  // Well-formed after the cut too: a cut between the halves of a pair would leave one alone.
  return wellFormed(value.length > MAX_VARCHAR ? value.slice(0, MAX_VARCHAR) : value);
}

/**
 * The primary key a charge is logged under, and the form the x-request-id is recorded beside it in.
 * A client-chosen x-request-id can make either longer than the column; it is then replaced by its
 * sha256 (still unique, still the same on every replay).
 */
export function storedRequestId(id: string): string {
  // The form the database keeps (half a surrogate pair becomes U+FFFD), so a replay finds its row.
  const stored = wellFormed(id);
  return stored.length > MAX_VARCHAR ? createHash('sha256').update(stored).digest('hex') : stored;
}

export function spendLogValues(event: SpendEvent): SpendLogValue[] {
  const a = event.attribution;
  const metadata = {
    user_api_key: a.keyHash,
    user_api_key_user_id: a.userId,
    user_api_key_team_id: a.teamId,
    user_api_key_org_id: a.orgId,
    user_api_key_project_id: a.projectId,
    user_api_key_end_user_id: a.endUserId,
    usage_object: {
      prompt_tokens: promptTokensOf(event.usage),
      completion_tokens: event.usage.outputTokens,
      total_tokens: totalTokensOf(event.usage),
      prompt_tokens_details: { cached_tokens: event.usage.cacheReadTokens },
      cache_creation_input_tokens: event.usage.cacheCreationTokens,
    },
    // The response reported no usage; the tokens above are Tollgate's estimate.
    ...(event.usageEstimated === true ? { usage_estimated: true } : {}),
    // request_id is the charge id (x-request-id + the provider's response id); this joins the row
    // to the request Envoy and the upstream logged.
    x_request_id: event.requestId === '' ? null : storedRequestId(event.requestId),
    recorded_by: 'tollgate',
  };
  return [
    storedRequestId(event.chargeId),
    clip(event.callType),
    clip(a.keyHash ?? ''),
    event.cost,
    totalTokensOf(event.usage),
    promptTokensOf(event.usage),
    event.usage.outputTokens,
    toSqlUtc(new Date(event.startTime)),
    toSqlUtc(new Date(event.endTime)),
    Math.max(0, Math.round(event.endTime - event.startTime)),
    event.completionStartTime === null ? null : toSqlUtc(new Date(event.completionStartTime)),
    clip(event.model),
    clip(a.model ?? ''),
    clip(a.userId ?? ''),
    wellFormedJson(metadata),
    wellFormedJson(a.tags),
    clip(a.teamId),
    clip(a.orgId),
    clip(a.endUserId),
    'success',
  ];
}
