/**
 * Entity records → the frozen domain values of `domain/entities.ts`.
 *
 * This is where LiteLLM's loose storage becomes the checks' strict vocabulary: NULL lists are
 * `[]` (the column transformer already did that), NULL spend is 0, JSON columns are objects,
 * a NULL team `blocked` is false (as LiteLLM's `get_data` normalises `team_blocked`).
 */
import type {
  AccessGroup,
  Agent,
  Budget,
  EndUser,
  ObjectPermission,
  Organization,
  OrganizationMembershipRow,
  Project,
  Tag,
  Team,
  TeamMembership,
  User,
  VirtualKey,
} from '../domain/entities';
import type { DeprecatedKey } from '../domain/deprecated-key';
import type {
  AccessGroupRecord,
  AgentRecord,
  BudgetRecord,
  DeprecatedVerificationTokenRecord,
  EndUserRecord,
  ObjectPermissionRecord,
  OrganizationMembershipRecord,
  OrganizationRecord,
  ProjectRecord,
  TagRecord,
  TeamMembershipRecord,
  TeamRecord,
  UserRecord,
  VerificationTokenRecord,
} from './entities';
import { parseBudgetLimits } from '../spend/window-limits';
import { deepFreeze } from './freeze';
import { asJsonObject, asJsonObjectOrNull, asStringMap } from './json-values';

export function toBudget(row: BudgetRecord): Budget {
  return deepFreeze({
    budget_id: row.budget_id,
    max_budget: row.max_budget,
    soft_budget: row.soft_budget,
    tpm_limit: row.tpm_limit,
    rpm_limit: row.rpm_limit,
    allowed_models: row.allowed_models,
    model_max_budget: asJsonObjectOrNull(row.model_max_budget),
    budget_duration: row.budget_duration,
    budget_reset_at: row.budget_reset_at,
  });
}

function joinedBudget(row: BudgetRecord | null | undefined): Budget | null {
  return row === null || row === undefined ? null : toBudget(row);
}

export function toVirtualKey(row: VerificationTokenRecord): VirtualKey {
  return deepFreeze({
    token: row.token,
    key_name: row.key_name,
    key_alias: row.key_alias,
    spend: row.spend ?? 0,
    max_budget: row.max_budget,
    expires: row.expires,
    models: row.models,
    config: asJsonObject(row.config),
    user_id: row.user_id,
    team_id: row.team_id,
    organization_id: row.organization_id,
    project_id: row.project_id,
    agent_id: row.agent_id,
    budget_id: row.budget_id,
    object_permission_id: row.object_permission_id,
    permissions: asJsonObject(row.permissions),
    metadata: asJsonObject(row.metadata),
    blocked: row.blocked,
    tpm_limit: row.tpm_limit,
    rpm_limit: row.rpm_limit,
    allowed_routes: row.allowed_routes,
    access_group_ids: row.access_group_ids,
    model_max_budget: asJsonObject(row.model_max_budget),
    model_spend: asJsonObject(row.model_spend),
    budget_duration: row.budget_duration,
    budget_reset_at: row.budget_reset_at,
    budget_limits: parseBudgetLimits(row.budget_limits),
    aliases: asStringMap(row.aliases),
  });
}

export function toTeam(row: TeamRecord): Team {
  return deepFreeze({
    team_id: row.team_id,
    team_alias: row.team_alias,
    organization_id: row.organization_id,
    object_permission_id: row.object_permission_id,
    metadata: asJsonObject(row.metadata),
    max_budget: row.max_budget,
    soft_budget: row.soft_budget,
    spend: row.spend ?? 0,
    models: row.models,
    blocked: row.blocked ?? false,
    tpm_limit: row.tpm_limit,
    rpm_limit: row.rpm_limit,
    access_group_ids: row.access_group_ids,
    model_id: row.model_id,
    model_aliases: asStringMap(row.litellm_model_table?.aliases),
    model_max_budget: asJsonObject(row.model_max_budget),
    model_spend: asJsonObject(row.model_spend),
    budget_duration: row.budget_duration,
    budget_reset_at: row.budget_reset_at,
    budget_limits: parseBudgetLimits(row.budget_limits),
  });
}

export function toTeamMembership(row: TeamMembershipRecord): TeamMembership {
  return deepFreeze({
    user_id: row.user_id,
    team_id: row.team_id,
    spend: row.spend ?? 0,
    budget: joinedBudget(row.litellm_budget_table),
  });
}

function toOrganizationMembership(row: OrganizationMembershipRecord): OrganizationMembershipRow {
  return { user_id: row.user_id, organization_id: row.organization_id, user_role: row.user_role };
}

export function toUser(row: UserRecord): User {
  const memberships = [...(row.organization_memberships ?? [])]
    // Stable order regardless of the join's row order.
    .sort((a, b) => (a.organization_id < b.organization_id ? -1 : a.organization_id > b.organization_id ? 1 : 0))
    .map(toOrganizationMembership);
  return deepFreeze({
    user_id: row.user_id,
    user_alias: row.user_alias,
    user_email: row.user_email,
    user_role: row.user_role,
    max_budget: row.max_budget,
    spend: row.spend ?? 0,
    models: row.models,
    metadata: asJsonObject(row.metadata),
    tpm_limit: row.tpm_limit,
    rpm_limit: row.rpm_limit,
    organization_memberships: memberships,
    budget_duration: row.budget_duration,
    budget_reset_at: row.budget_reset_at,
    model_max_budget: asJsonObject(row.model_max_budget),
    model_spend: asJsonObject(row.model_spend),
    budget_limits: parseBudgetLimits(row.budget_limits),
  });
}

export function toEndUser(row: EndUserRecord): EndUser {
  return deepFreeze({
    user_id: row.user_id,
    alias: row.alias,
    spend: row.spend ?? 0,
    blocked: row.blocked ?? false,
    allowed_model_region: row.allowed_model_region,
    budget_id: row.budget_id,
    budget: joinedBudget(row.litellm_budget_table),
    budget_limits: parseBudgetLimits(row.budget_limits),
  });
}

export function toOrganization(row: OrganizationRecord): Organization {
  return deepFreeze({
    organization_id: row.organization_id,
    organization_alias: row.organization_alias,
    budget_id: row.budget_id,
    spend: row.spend ?? 0,
    models: row.models,
    metadata: asJsonObject(row.metadata),
    budget: joinedBudget(row.litellm_budget_table),
  });
}

export function toProject(row: ProjectRecord): Project {
  return deepFreeze({
    project_id: row.project_id,
    project_alias: row.project_alias,
    team_id: row.team_id,
    budget_id: row.budget_id,
    spend: row.spend ?? 0,
    models: row.models,
    blocked: row.blocked ?? false,
    metadata: asJsonObject(row.metadata),
    budget: joinedBudget(row.litellm_budget_table),
  });
}

export function toTag(row: TagRecord): Tag {
  return deepFreeze({
    tag_name: row.tag_name,
    spend: row.spend ?? 0,
    budget_id: row.budget_id,
    budget: joinedBudget(row.litellm_budget_table),
  });
}

export function toAccessGroup(row: AccessGroupRecord): AccessGroup {
  return deepFreeze({
    access_group_id: row.access_group_id,
    access_group_name: row.access_group_name,
    access_model_names: row.access_model_names,
  });
}

export function toObjectPermission(row: ObjectPermissionRecord): ObjectPermission {
  return deepFreeze({ object_permission_id: row.object_permission_id, vector_stores: row.vector_stores });
}

export function toAgent(row: AgentRecord): Agent {
  return deepFreeze({
    agent_id: row.agent_id,
    agent_name: row.agent_name,
    litellm_params: asJsonObject(row.litellm_params),
    object_permission_id: row.object_permission_id,
    rpm_limit: row.rpm_limit,
    tpm_limit: row.tpm_limit,
    session_rpm_limit: row.session_rpm_limit,
    session_tpm_limit: row.session_tpm_limit,
  });
}

export function toDeprecatedKey(row: DeprecatedVerificationTokenRecord): DeprecatedKey {
  return deepFreeze({ token: row.token, active_token_id: row.active_token_id, revoke_at: row.revoke_at });
}
