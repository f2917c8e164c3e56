import { expect } from 'chai';
import { LITELLM_ROUTES, isRouteGroupName, routeGroup } from '../../src/routes/route-groups';

/**
 * A pin on the LiteLLM version the route groups were copied from (litellm-auth.md §6.1).
 * A failing count means the data changed: re-diff against LiteLLM's `_types.py` before updating.
 */
describe('LiteLLM route groups (pinned data) — §6.1', () => {
  const expectedCounts: Record<string, number> = {
    openai_route_names: 8,
    openai_routes: 119,
    mapped_pass_through_routes: 19,
    passthrough_routes_wildcard: 19,
    litellm_native_routes: 4,
    anthropic_routes: 4,
    mcp_inference_routes: 9,
    mcp_management_routes: 2,
    mcp_routes: 11,
    agent_inference_routes: 5,
    agent_management_routes: 4,
    agent_routes: 9,
    google_routes: 15,
    apply_guardrail_routes: 1,
    model_info_routes: 2,
    llm_api_routes: 197,
    info_routes: 23,
    master_key_only_routes: 3,
    key_management_routes: 19,
    management_routes: 59,
    spend_tracking_routes: 15,
    global_spend_tracking_routes: 11,
    public_routes: 14,
    ui_routes: 44,
    compliance_check_routes: 2,
    internal_user_routes: 49,
    internal_user_view_only_routes: 19,
    self_managed_routes: 34,
    org_admin_only_routes: 5,
    admin_viewer_routes: 76,
    org_admin_allowed_routes: 174,
  };

  it('has exactly the LiteLLMRoutes members of the pinned version', () => {
    expect(Object.keys(LITELLM_ROUTES).sort()).to.deep.equal(Object.keys(expectedCounts).sort());
  });

  for (const [group, count] of Object.entries(expectedCounts)) {
    it(`${group} has ${count} entries`, () => {
      expect(isRouteGroupName(group)).to.equal(true);
      if (isRouteGroupName(group)) expect(routeGroup(group)).to.have.length(count);
    });
  }

  const pinnedMembers: readonly (readonly [keyof typeof LITELLM_ROUTES, string])[] = [
    ['openai_routes', '/openai/deployments/{model}/chat/completions'],
    ['openai_routes', '/realtime?{model}'],
    ['openai_routes', '/v1/containers/*'],
    ['mapped_pass_through_routes', '/watsonx'],
    ['mapped_pass_through_routes', '/comprehendmedical'],
    ['passthrough_routes_wildcard', '/bedrock/*'],
    ['google_routes', '/v1beta/models/{model_name:path}:generateContent'],
    ['llm_api_routes', '/model/info'],
    ['llm_api_routes', '/guardrails/apply_guardrail'],
    ['info_routes', '/get/user_banner'],
    ['info_routes', '/v1/models'],
    ['master_key_only_routes', '/global/spend/reset'],
    ['management_routes', '/key/{key_id}/regenerate'],
    ['management_routes', '/v1/mcp/server/{path:path}'],
    ['public_routes', '/health/liveliness'],
    ['internal_user_routes', '/compliance/gdpr'],
    ['self_managed_routes', '/team/{team_id}/members/me'],
    ['org_admin_only_routes', '/organization/member_delete'],
  ];
  for (const [group, route] of pinnedMembers) {
    it(`${group} contains ${route}`, () => {
      expect(LITELLM_ROUTES[group]).to.include(route);
    });
  }

  it('no longer lists /metrics as public (auth required in the pinned version) — §2.4', () => {
    expect(LITELLM_ROUTES.public_routes).to.not.include('/metrics');
  });

  it('keeps MCP and agent management routes out of llm_api_routes', () => {
    expect(LITELLM_ROUTES.llm_api_routes).to.not.include('/v1/mcp/server');
    expect(LITELLM_ROUTES.llm_api_routes).to.not.include('/v1/agents');
  });

  it('does not treat arbitrary strings as group names', () => {
    expect(isRouteGroupName('toString')).to.equal(false);
    expect(isRouteGroupName('/chat/completions')).to.equal(false);
  });
});
