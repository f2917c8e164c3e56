/**
 * §2.2 step 2 / §4.13 (`auth_utils.is_request_body_safe`): a client may not redirect the proxy's
 * outbound call or its observability callbacks from the request body.
 *
 * Deliberate choice: the *newer* LiteLLM list, not the seed's. The seed bans only `api_base` and
 * `base_url` and skips the check whenever the body carries an `api_key` — a bypass LiteLLM itself
 * removed as a credential-exfiltration hole. Tollgate follows the newer behaviour: the longer
 * list, no `api_key` bypass, and the same list applied inside `litellm_embedding_config`,
 * `metadata` and `litellm_metadata` (JSON-string metadata included).
 *
 * Two opt-ins lift the ban, as in LiteLLM: `general_settings.allow_client_side_credentials` for
 * every param, or the requested model's deployment listing the param in
 * `configurable_clientside_auth_params` (one param at a time; see clientside-auth-params.ts).
 */
import type { Policy } from '../config/policy';
import type { Json } from '../domain/entities';
import type { Check, Denial } from './types';
import { authErrorFromException } from './errors';
import { isJsonObject, requestBody } from './context';
import { metadataAsObject } from './request-metadata';
import { isClientsideParamAllowed } from './clientside-auth-params';

/** `initialize_dynamic_callback_params._supported_callback_params` of the pinned version. */
const SUPPORTED_CALLBACK_PARAMS = [
  'langfuse_public_key',
  'langfuse_secret',
  'langfuse_secret_key',
  'langfuse_host',
  'langfuse_environment',
  'langfuse_prompt_version',
  'langsmith_api_key',
  'langsmith_project',
  'langsmith_base_url',
  'langsmith_sampling_rate',
  'langsmith_tenant_id',
  'humanloop_api_key',
  'arize_api_key',
  'arize_space_key',
  'arize_space_id',
  'posthog_api_key',
  'posthog_host',
  'braintrust_api_key',
  'braintrust_project',
  'braintrust_host',
  'slack_webhook_url',
  'lunary_public_key',
  'dd_api_key',
  'dd_site',
  'dd_agent_host',
  'dd_agent_port',
  'newrelic_api_key',
  'newrelic_region',
  'turn_off_message_logging',
];

/** `_request_blocked_callback_params`. */
const REQUEST_BLOCKED_CALLBACK_PARAMS = [
  'gcs_bucket_name',
  'gcs_path_service_account',
  'dd_api_key',
  'dd_site',
  'dd_agent_host',
  'dd_agent_port',
  'newrelic_api_key',
  'newrelic_region',
];

/** `_SAFE_CLIENT_CALLBACK_PARAMS`: describe the request being logged, not where it goes. */
const SAFE_CLIENT_CALLBACK_PARAMS = new Set(['langfuse_prompt_version', 'langsmith_sampling_rate']);

/** `_EXTRA_BANNED_OBSERVABILITY_PARAMS`. */
const EXTRA_BANNED_OBSERVABILITY_PARAMS = ['posthog_api_url', 'phoenix_project_name', 'wandb_api_key', 'weave_project_id'];

const BANNED_OBSERVABILITY_PARAMS = [
  ...new Set([
    ...SUPPORTED_CALLBACK_PARAMS.filter((p) => !SAFE_CLIENT_CALLBACK_PARAMS.has(p)),
    ...REQUEST_BLOCKED_CALLBACK_PARAMS,
    ...EXTRA_BANNED_OBSERVABILITY_PARAMS,
  ]),
].sort();

/** `_BANNED_REQUEST_BODY_PARAMS`, in LiteLLM's order (the first banned param present is reported). */
export const BANNED_REQUEST_BODY_PARAMS: readonly string[] = [
  'api_base',
  'base_url',
  'user_config',
  'aws_sts_endpoint',
  'aws_web_identity_token',
  'aws_role_name',
  'vertex_credentials',
  'aws_bedrock_runtime_endpoint',
  's3_endpoint_url',
  'sagemaker_base_url',
  'deployment_url',
  ...BANNED_OBSERVABILITY_PARAMS,
];

/**
 * `_check_banned_params`: the first banned param present that the deployment does not opt into.
 * An opted-in param is skipped, not a pass for the whole body: an allowed `api_base` next to a
 * `langfuse_host` is still refused for the latter. `model` is the request's (opt-ins are per deployment).
 */
function refusedParamIn(container: Readonly<Record<string, Json>>, policy: Policy, model: string): string | null {
  if (!mayHoldBannedParam(container)) return null;
  for (const param of BANNED_REQUEST_BODY_PARAMS) {
    if (Object.hasOwn(container, param) && !isClientsideParamAllowed(policy, model, param, container[param] ?? null)) return param;
  }
  return null;
}

const BANNED = new Set(BANNED_REQUEST_BODY_PARAMS);

/**
 * False when none of the container's own keys is banned. A body has a handful of keys and the list
 * about eighty, so looking the keys up is the cheap way to rule a body out on every Check; a
 * container with more keys than the list is simply walked in LiteLLM's order.
 */
function mayHoldBannedParam(container: Readonly<Record<string, Json>>): boolean {
  let seen = 0;
  for (const key in container) {
    if (BANNED.has(key) || (seen += 1) > BANNED.size) return true;
  }
  return false;
}

function rejection(param: string): Denial {
  return authErrorFromException(
    `Rejected Request: ${param} is not allowed in request body. ` +
      'Clientside passthrough requires explicit admin opt-in via ' +
      'either `general_settings.allow_client_side_credentials = true` ' +
      '(proxy-wide) or `configurable_clientside_auth_params` on the ' +
      'deployment in your proxy config.yaml. ' +
      'Relevant Issue: https://huntr.com/bounties/4001e1a2-7b7a-4776-a3ae-e6692ec3d997',
  );
}

/**
 * The first banned param in the body root, then `litellm_embedding_config`, then `metadata` and
 * `litellm_metadata`. Walked in place: this runs on every Check, and most bodies have only the root.
 */
function refusedParamInBody(body: Readonly<Record<string, Json>>, policy: Policy, model: string): string | null {
  const inRoot = refusedParamIn(body, policy, model);
  if (inRoot !== null) return inRoot;
  const nested = body['litellm_embedding_config'];
  if (isJsonObject(nested)) {
    const param = refusedParamIn(nested, policy, model);
    if (param !== null) return param;
  }
  for (const name of METADATA_CONTAINERS) {
    const metadata = metadataAsObject(body[name]);
    const param = metadata === null ? null : refusedParamIn(metadata, policy, model);
    if (param !== null) return param;
  }
  return null;
}

const METADATA_CONTAINERS = ['metadata', 'litellm_metadata'] as const;

export const requestBodySafety: Check = {
  name: 'request_body_safety',
  spec: 'litellm-auth.md §2.2 step 2, §4.13',
  statuses: [401],
  errorTypes: ['auth_error'],
  decide: (ctx) => {
    if (ctx.policy.allowClientSideCredentials) return null;
    const body = requestBody(ctx);
    // LiteLLM passes `request_data.get("model", "")`: only a string model can opt in.
    const model = typeof body['model'] === 'string' ? body['model'] : '';
    const param = refusedParamInBody(body, ctx.policy, model);
    return param === null ? null : rejection(param);
  },
};
