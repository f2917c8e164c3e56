/**
 * LiteLLM's route groups (`litellm/proxy/_types.py::LiteLLMRoutes`, with the
 * `KeyManagementRoutes` enum values inlined), as plain data.
 *
 * Pinned from: the LiteLLM main-branch copy of `_types.py` described in litellm-auth.md §6.1
 * (2026 era: it has `/watsonx` and `/comprehendmedical` pass-through prefixes,
 * `mcp_inference_routes`/`mcp_management_routes`, `agent_inference_routes`/`agent_management_routes`,
 * `model_info_routes` inside `llm_api_routes`, `compliance_check_routes`, `/get/user_banner`
 * and `/team/metadata_schema` in info routes, and `/metrics` no longer public).
 * When upgrading, diff against that file and update test/routes/route-groups.test.ts.
 *
 * Order inside each list is LiteLLM's: messages such as "Only allowed to call routes: [...]"
 * do not print these lists, but keeping the order makes diffs against upstream trivial.
 */

const OPENAI_ROUTES = [
  // chat completions
  '/engines/{model}/chat/completions',
  '/openai/deployments/{model}/chat/completions',
  '/chat/completions',
  '/v1/chat/completions',
  '/cursor/chat/completions',
  '/cursor/models',
  '/cursor/v1/models',
  // completions
  '/engines/{model}/completions',
  '/openai/deployments/{model}/completions',
  '/completions',
  '/v1/completions',
  // embeddings
  '/engines/{model}/embeddings',
  '/openai/deployments/{model}/embeddings',
  '/embeddings',
  '/v1/embeddings',
  // image generation / edits
  '/images/generations',
  '/v1/images/generations',
  '/images/edits',
  '/v1/images/edits',
  // video generation
  '/videos',
  '/v1/videos',
  '/videos/{video_id}',
  '/v1/videos/{video_id}',
  '/videos/{video_id}/content',
  '/v1/videos/{video_id}/content',
  '/videos/{video_id}/remix',
  '/v1/videos/{video_id}/remix',
  // audio
  '/audio/transcriptions',
  '/v1/audio/transcriptions',
  '/audio/speech',
  '/v1/audio/speech',
  // moderations
  '/moderations',
  '/v1/moderations',
  // batches
  '/v1/batches',
  '/batches',
  '/v1/batches/{batch_id}',
  '/batches/{batch_id}',
  '/v1/batches/{batch_id}/cancel',
  '/batches/{batch_id}/cancel',
  // files
  '/v1/files',
  '/files',
  '/v1/files/{file_id}',
  '/files/{file_id}',
  '/v1/files/{file_id}/content',
  '/files/{file_id}/content',
  // fine tuning
  '/fine_tuning/jobs',
  '/v1/fine_tuning/jobs',
  '/fine_tuning/jobs/{fine_tuning_job_id}/cancel',
  '/v1/fine_tuning/jobs/{fine_tuning_job_id}/cancel',
  // assistants
  '/assistants',
  '/v1/assistants',
  '/v1/assistants/{assistant_id}',
  '/assistants/{assistant_id}',
  '/threads',
  '/v1/threads',
  '/threads/{thread_id}',
  '/v1/threads/{thread_id}',
  '/threads/{thread_id}/messages',
  '/v1/threads/{thread_id}/messages',
  '/threads/{thread_id}/runs',
  '/v1/threads/{thread_id}/runs',
  // models
  '/models',
  '/v1/models',
  // token counter
  '/utils/token_counter',
  '/utils/transform_request',
  // rerank
  '/rerank',
  '/v1/rerank',
  '/v2/rerank',
  // realtime
  '/realtime',
  '/v1/realtime',
  '/openai/v1/realtime',
  '/realtime?{model}',
  '/v1/realtime?{model}',
  '/openai/v1/realtime?{model}',
  '/realtime/client_secrets',
  '/v1/realtime/client_secrets',
  '/openai/v1/realtime/client_secrets',
  '/realtime/calls',
  '/v1/realtime/calls',
  '/openai/v1/realtime/calls',
  '/realtime/transcription_sessions',
  '/v1/realtime/transcription_sessions',
  '/openai/v1/realtime/transcription_sessions',
  // responses API
  '/responses',
  '/v1/responses',
  '/openai/v1/responses',
  '/responses/{response_id}',
  '/v1/responses/{response_id}',
  '/openai/v1/responses/{response_id}',
  '/responses/{response_id}/input_items',
  '/v1/responses/{response_id}/input_items',
  '/openai/v1/responses/{response_id}/input_items',
  '/responses/{response_id}/cancel',
  '/v1/responses/{response_id}/cancel',
  '/openai/v1/responses/{response_id}/cancel',
  // vector stores
  '/vector_stores',
  '/v1/vector_stores',
  '/vector_stores/{vector_store_id}',
  '/v1/vector_stores/{vector_store_id}',
  '/vector_stores/{vector_store_id}/search',
  '/v1/vector_stores/{vector_store_id}/search',
  '/vector_stores/{vector_store_id}/files',
  '/v1/vector_stores/{vector_store_id}/files',
  '/vector_stores/{vector_store_id}/files/{file_id}',
  '/v1/vector_stores/{vector_store_id}/files/{file_id}',
  '/vector_stores/{vector_store_id}/files/{file_id}/content',
  '/v1/vector_stores/{vector_store_id}/files/{file_id}/content',
  '/vector_store/list',
  '/v1/vector_store/list',
  // search
  '/search',
  '/v1/search',
  '/search/{search_tool_name}',
  '/v1/search/{search_tool_name}',
  // OCR
  '/ocr',
  '/v1/ocr',
  // containers
  '/containers',
  '/v1/containers',
  '/containers/*',
  '/v1/containers/*',
] as const;

const MAPPED_PASS_THROUGH_ROUTES = [
  '/bedrock',
  '/comprehendmedical',
  '/vertex-ai',
  '/vertex_ai',
  '/cohere',
  '/cursor',
  '/gemini',
  '/anthropic',
  '/langfuse',
  '/azure',
  '/azure_ai',
  '/openai',
  '/openai_passthrough',
  '/assemblyai',
  '/eu.assemblyai',
  '/vllm',
  '/mistral',
  '/milvus',
  '/watsonx',
] as const;

const PASSTHROUGH_ROUTES_WILDCARD = MAPPED_PASS_THROUGH_ROUTES.map((route) => `${route}/*`);

const LITELLM_NATIVE_ROUTES = ['/rag/ingest', '/v1/rag/ingest', '/rag/query', '/v1/rag/query'] as const;

const ANTHROPIC_ROUTES = ['/v1/messages', '/v1/messages/count_tokens', '/v1/skills', '/v1/skills/{skill_id}'] as const;

const MCP_INFERENCE_ROUTES = [
  '/mcp',
  '/mcp/',
  '/mcp/{subpath}',
  '/mcp/tools',
  '/mcp/tools/list',
  '/mcp/tools/call',
  '/mcp-rest/tools/list',
  '/mcp-rest/tools/call',
  '/v1/mcp/tools',
] as const;

const MCP_MANAGEMENT_ROUTES = ['/v1/mcp/server', '/v1/mcp/server/{path:path}'] as const;

const AGENT_INFERENCE_ROUTES = [
  '/agents',
  '/a2a/{agent_id}',
  '/a2a/{agent_id}/message/send',
  '/a2a/{agent_id}/message/stream',
  '/a2a/{agent_id}/.well-known/agent-card.json',
] as const;

const AGENT_MANAGEMENT_ROUTES = [
  '/v1/agents',
  '/v1/agents/{agent_id}',
  '/v1/agents/make_public',
  '/v1/agents/{agent_id}/make_public',
] as const;

const GOOGLE_ROUTES = [
  '/v1beta/models/{model_name:path}:countTokens',
  '/v1beta/models/{model_name:path}:generateContent',
  '/v1beta/models/{model_name:path}:streamGenerateContent',
  '/models/{model_name:path}:countTokens',
  '/models/{model_name:path}:generateContent',
  '/models/{model_name:path}:streamGenerateContent',
  // Google Interactions API
  '/interactions',
  '/v1beta/interactions',
  '/interactions/{interaction_id}',
  '/v1beta/interactions/{interaction_id}',
  '/interactions/{interaction_id}/cancel',
  '/v1beta/interactions/{interaction_id}/cancel',
  // Google Managed Agents API
  '/v1beta/agents',
  '/v1beta/agents/{name}',
  '/v1beta/agents/{name}/versions',
] as const;

const APPLY_GUARDRAIL_ROUTES = ['/guardrails/apply_guardrail'] as const;

const MODEL_INFO_ROUTES = ['/model/info', '/v1/model/info'] as const;

const INFO_ROUTES = [
  '/key/info',
  '/key/health',
  '/team/info',
  '/team/list',
  '/v2/team/list',
  '/organization/list',
  '/team/available',
  '/team/metadata_schema',
  '/user/info',
  '/v2/user/info',
  '/model/info',
  '/v1/model/info',
  '/v2/model/info',
  '/v2/key/info',
  '/model_group/info',
  '/health',
  '/health/services',
  '/key/list',
  '/user/filter/ui',
  '/models',
  '/v1/models',
  '/sso/get/ui_settings',
  '/get/user_banner',
] as const;

const MASTER_KEY_ONLY_ROUTES = [
  '/global/spend/reset',
  '/memory-usage-in-mem-cache',
  '/memory-usage-in-mem-cache-items',
] as const;

/** `KeyManagementRoutes` values, in the order `LiteLLMRoutes.key_management_routes` lists them. */
const KEY_MANAGEMENT_ROUTES = [
  '/key/generate',
  '/key/update',
  '/key/delete',
  '/key/info',
  '/key/regenerate',
  '/key/service-account/generate',
  '/key/{key_id}/regenerate',
  '/key/list',
  '/key/block',
  '/key/unblock',
  '/key/bulk_update',
  '/team/key/bulk_update',
  '/team/daily/activity',
  '/team/daily/activity/aggregated',
  '/spend/logs',
  '/spend/logs/v2',
  '/key/{key_id}/reset_spend',
  '/key/aliases',
  '/key/access_group_assignment',
] as const;

const MANAGEMENT_ROUTES = [
  // user
  '/user/new',
  '/user/update',
  '/user/bulk_update',
  '/user/delete',
  '/user/info',
  '/user/list',
  '/user/daily/activity',
  '/user/daily/activity/aggregated',
  // team
  '/team/new',
  '/team/update',
  '/team/{team_id}',
  '/team/delete',
  '/team/list',
  '/v2/team/list',
  '/team/info',
  '/team/block',
  '/team/unblock',
  '/team/available',
  '/team/metadata_schema',
  '/team/permissions_list',
  '/team/permissions_update',
  '/team/permissions_bulk_update',
  '/team/daily/activity',
  '/team/daily/activity/aggregated',
  '/gateway/daily/activity',
  // model
  '/model/new',
  '/model/update',
  '/model/delete',
  '/model/info',
  '/jwt/key/mapping/new',
  '/jwt/key/mapping/update',
  '/jwt/key/mapping/delete',
  '/jwt/key/mapping/list',
  '/jwt/key/mapping/info',
  ...KEY_MANAGEMENT_ROUTES,
  ...MCP_MANAGEMENT_ROUTES,
  ...AGENT_MANAGEMENT_ROUTES,
] as const;

const SPEND_TRACKING_ROUTES = [
  '/spend/keys',
  '/spend/users',
  '/spend/tags',
  '/spend/calculate',
  '/spend/logs',
  '/spend/logs/v2',
  '/spend/logs/ui',
  '/spend/logs/session/ui',
  '/key/spend/report',
  '/user/spend/report',
  '/team/spend/report',
  '/organization/spend/report',
  '/management/v1/spend_logs/end_users',
  '/management/v1/spend_logs/users',
  '/cost/estimate',
] as const;

const GLOBAL_SPEND_TRACKING_ROUTES = [
  '/global/spend/logs',
  '/global/spend',
  '/global/spend/keys',
  '/global/spend/teams',
  '/global/spend/end_users',
  '/global/spend/models',
  '/global/predict/spend/logs',
  '/global/spend/report',
  '/global/spend/provider',
  '/global/spend/tags',
  '/global/spend/all_tag_names',
] as const;

const PUBLIC_ROUTES = [
  '/routes',
  '/',
  '/health/liveliness',
  '/health/liveness',
  '/test',
  '/config/yaml',
  '/litellm/.well-known/litellm-ui-config',
  '/.well-known/litellm-ui-config',
  '/public/model_hub',
  '/public/model_hub/info',
  '/public/agent_hub',
  '/public/mcp_hub',
  '/public/skill_hub',
  '/public/litellm_model_cost_map',
] as const;

/** Kept only because key `allowed_routes` and JWT `admin_allowed_routes` may name it. */
const UI_ROUTES = [
  '/sso',
  '/sso/get/ui_settings',
  '/get/ui_settings',
  '/login',
  '/key/info',
  '/config',
  '/spend',
  '/model/info',
  '/v2/model/info',
  '/v2/key/info',
  '/models',
  '/v1/models',
  '/global/spend',
  '/global/spend/logs',
  '/global/spend/keys',
  '/global/spend/models',
  '/global/spend/tags',
  '/global/predict/spend/logs',
  '/global/activity',
  '/gateway/daily/activity',
  '/health/services',
  ...INFO_ROUTES,
] as const;

const COMPLIANCE_CHECK_ROUTES = ['/compliance/eu-ai-act', '/compliance/gdpr'] as const;

const INTERNAL_USER_ROUTES = [
  '/global/activity',
  '/global/activity/model',
  '/global/activity/cache_hits',
  '/tag/daily/activity',
  '/tag/list',
  '/v1/models/{model_id}',
  '/models/{model_id}',
  '/guardrails/list',
  '/v2/guardrails/list',
  '/project/list',
  '/project/info',
  '/search_tools/list',
  '/search_tools/ui/available_providers',
  ...SPEND_TRACKING_ROUTES,
  ...KEY_MANAGEMENT_ROUTES,
  ...COMPLIANCE_CHECK_ROUTES,
] as const;

const INTERNAL_USER_VIEW_ONLY_ROUTES = [
  ...SPEND_TRACKING_ROUTES,
  ...COMPLIANCE_CHECK_ROUTES,
  '/tag/daily/activity',
  '/tag/list',
] as const;

const SELF_MANAGED_ROUTES = [
  '/team/member_add',
  '/team/member_delete',
  '/team/member_update',
  '/team/{team_id}/member/{user_id}/reset_spend',
  '/team/permissions_list',
  '/team/permissions_update',
  '/team/daily/activity',
  '/team/daily/activity/aggregated',
  '/team/{team_id}/members/me',
  '/model/new',
  '/model/update',
  '/model/delete',
  '/user/daily/activity',
  '/user/daily/activity/aggregated',
  '/organization/daily/activity',
  '/user/available_roles',
  '/user/list',
  '/model/{model_id}/update',
  '/prompt/list',
  '/prompt/info',
  '/project/list',
  '/project/info',
  '/health/test_connection',
  '/invitation/new',
  '/invitation/delete',
  '/guardrails/register',
  '/guardrails/submissions',
  '/guardrails/submissions/{guardrail_id}',
  '/auto_router/test_routing',
  '/auto_router/validate_complexity_router_config',
  ...AGENT_MANAGEMENT_ROUTES,
] as const;

const ORG_ADMIN_ONLY_ROUTES = [
  '/organization/info',
  '/organization/delete',
  '/organization/member_add',
  '/organization/member_update',
  '/organization/member_delete',
] as const;

const ADMIN_VIEWER_ROUTES = [
  '/user/list',
  '/user/available_users',
  '/user/available_roles',
  '/user/daily/activity',
  '/team/daily/activity',
  '/team/daily/activity/aggregated',
  '/tag/daily/activity',
  '/tag/list',
  '/audit',
  '/audit/{id}',
  '/global/activity',
  '/global/activity/model',
  '/global/activity/cache_hits',
  '/customer/list',
  '/customer/info',
  '/spend/logs/ui/{logId}',
  '/spend/logs/session/ui',
  '/management/v1/spend_logs/end_users',
  '/management/v1/spend_logs/users',
  '/callbacks/list',
  '/callbacks/configs',
  '/get/config/callbacks',
  '/alerting/settings',
  '/config/list',
  '/config/field/info',
  '/budget/list',
  '/management/v1/budgets',
  '/budget/settings',
  '/invitation/info',
  '/guardrails/list',
  '/v2/guardrails/list',
  '/guardrails/submissions',
  '/guardrails/submissions/{guardrail_id}',
  '/guardrails/usage/overview',
  '/policies/attachments/list',
  '/get/mcp_semantic_filter_settings',
  '/schedule/model_cost_map_reload/status',
  '/model/cost_map/source',
  ...SPEND_TRACKING_ROUTES,
  ...INFO_ROUTES,
] as const;

/**
 * Every `LiteLLMRoutes` member, by its Python name: key `allowed_routes` and JWT route settings
 * may name any of them (`allowed_routes: ["llm_api_routes"]`).
 */
export const LITELLM_ROUTES = {
  openai_route_names: [
    'chat_completion',
    'completion',
    'embeddings',
    'image_generation',
    'video_generation',
    'audio_transcriptions',
    'moderations',
    'model_list',
  ],
  openai_routes: OPENAI_ROUTES,
  mapped_pass_through_routes: MAPPED_PASS_THROUGH_ROUTES,
  passthrough_routes_wildcard: PASSTHROUGH_ROUTES_WILDCARD,
  litellm_native_routes: LITELLM_NATIVE_ROUTES,
  anthropic_routes: ANTHROPIC_ROUTES,
  mcp_inference_routes: MCP_INFERENCE_ROUTES,
  mcp_management_routes: MCP_MANAGEMENT_ROUTES,
  mcp_routes: [...MCP_INFERENCE_ROUTES, ...MCP_MANAGEMENT_ROUTES],
  agent_inference_routes: AGENT_INFERENCE_ROUTES,
  agent_management_routes: AGENT_MANAGEMENT_ROUTES,
  agent_routes: [...AGENT_INFERENCE_ROUTES, ...AGENT_MANAGEMENT_ROUTES],
  google_routes: GOOGLE_ROUTES,
  apply_guardrail_routes: APPLY_GUARDRAIL_ROUTES,
  model_info_routes: MODEL_INFO_ROUTES,
  llm_api_routes: [
    ...OPENAI_ROUTES,
    ...ANTHROPIC_ROUTES,
    ...GOOGLE_ROUTES,
    ...MAPPED_PASS_THROUGH_ROUTES,
    ...PASSTHROUGH_ROUTES_WILDCARD,
    ...APPLY_GUARDRAIL_ROUTES,
    ...MCP_INFERENCE_ROUTES,
    ...LITELLM_NATIVE_ROUTES,
    ...AGENT_INFERENCE_ROUTES,
    ...MODEL_INFO_ROUTES,
  ],
  info_routes: INFO_ROUTES,
  master_key_only_routes: MASTER_KEY_ONLY_ROUTES,
  key_management_routes: KEY_MANAGEMENT_ROUTES,
  management_routes: MANAGEMENT_ROUTES,
  spend_tracking_routes: SPEND_TRACKING_ROUTES,
  global_spend_tracking_routes: GLOBAL_SPEND_TRACKING_ROUTES,
  public_routes: PUBLIC_ROUTES,
  ui_routes: UI_ROUTES,
  compliance_check_routes: COMPLIANCE_CHECK_ROUTES,
  internal_user_routes: INTERNAL_USER_ROUTES,
  internal_user_view_only_routes: INTERNAL_USER_VIEW_ONLY_ROUTES,
  self_managed_routes: SELF_MANAGED_ROUTES,
  org_admin_only_routes: ORG_ADMIN_ONLY_ROUTES,
  admin_viewer_routes: ADMIN_VIEWER_ROUTES,
  org_admin_allowed_routes: [
    ...ORG_ADMIN_ONLY_ROUTES,
    ...MANAGEMENT_ROUTES,
    ...SELF_MANAGED_ROUTES,
    ...ADMIN_VIEWER_ROUTES,
  ],
} as const satisfies Record<string, readonly string[]>;

export type RouteGroupName = keyof typeof LITELLM_ROUTES;

const GROUP_NAMES: ReadonlySet<string> = new Set(Object.keys(LITELLM_ROUTES));

/** True when `name` is a `LiteLLMRoutes` member name (`LiteLLMRoutes._member_names_`). */
export function isRouteGroupName(name: string): name is RouteGroupName {
  return GROUP_NAMES.has(name);
}

export function routeGroup(name: RouteGroupName): readonly string[] {
  return LITELLM_ROUTES[name];
}
