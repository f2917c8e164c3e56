/**
 * Named builders for the rows, snapshot, request and policy the checks read. Each returns a valid,
 * deeply frozen object (cached rows are shared and must never be mutated); pass overrides for the
 * fields a test is about.
 */
import type {
  AccessGroup,
  Agent,
  Budget,
  EndUser,
  ObjectPermission,
  Organization,
  Project,
  Tag,
  Team,
  TeamMembership,
  User,
  VirtualKey,
} from '../../src/domain/entities';
import type { RequestFacts } from '../../src/domain/request';
import type { ModelDeployment, Policy } from '../../src/config/policy';
import type { Check, CheckContext, Denial, Snapshot } from '../../src/checks/types';

export const RAW_KEY = 'sk-test-0123456789abcd';
export const KEY_HASH = 'a'.repeat(64);
export const NOW = new Date('2025-06-01T12:00:00.000Z');

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    if (value instanceof Map) {
      for (const v of value.values()) deepFreeze(v);
    } else if (!(value instanceof Date)) {
      for (const v of Object.values(value)) deepFreeze(v);
    }
    Object.freeze(value);
  }
  return value;
}

export function aBudget(overrides: Partial<Budget> = {}): Budget {
  return deepFreeze({
    budget_id: 'budget-1',
    max_budget: null,
    soft_budget: null,
    tpm_limit: null,
    rpm_limit: null,
    allowed_models: [],
    model_max_budget: null,
    budget_duration: null,
    budget_reset_at: null,
    ...overrides,
  });
}

export function aKey(overrides: Partial<VirtualKey> = {}): VirtualKey {
  return deepFreeze({
    token: KEY_HASH,
    key_name: 'sk-...abcd',
    key_alias: null,
    spend: 0,
    max_budget: null,
    expires: null,
    models: [],
    config: {},
    user_id: null,
    team_id: null,
    organization_id: null,
    project_id: null,
    agent_id: null,
    budget_id: null,
    object_permission_id: null,
    permissions: {},
    metadata: {},
    blocked: null,
    tpm_limit: null,
    rpm_limit: null,
    allowed_routes: [],
    access_group_ids: [],
    model_max_budget: {},
    model_spend: {},
    budget_duration: null,
    budget_reset_at: null,
    ...overrides,
  });
}

export function aTeam(overrides: Partial<Team> = {}): Team {
  return deepFreeze({
    team_id: 'team-1',
    team_alias: null,
    organization_id: null,
    object_permission_id: null,
    metadata: {},
    max_budget: null,
    soft_budget: null,
    spend: 0,
    models: [],
    blocked: false,
    tpm_limit: null,
    rpm_limit: null,
    access_group_ids: [],
    model_id: null,
    model_aliases: {},
    ...overrides,
  });
}

export function aMembership(overrides: Partial<TeamMembership> = {}): TeamMembership {
  return deepFreeze({ user_id: 'user-1', team_id: 'team-1', spend: 0, budget: null, ...overrides });
}

export function aUser(overrides: Partial<User> = {}): User {
  return deepFreeze({
    user_id: 'user-1',
    user_alias: null,
    user_email: null,
    user_role: 'internal_user',
    max_budget: null,
    spend: 0,
    models: [],
    metadata: {},
    tpm_limit: null,
    rpm_limit: null,
    organization_memberships: [],
    ...overrides,
  });
}

export function anEndUser(overrides: Partial<EndUser> = {}): EndUser {
  return deepFreeze({
    user_id: 'customer-1',
    alias: null,
    spend: 0,
    blocked: false,
    allowed_model_region: null,
    budget_id: null,
    budget: null,
    ...overrides,
  });
}

export function anOrg(overrides: Partial<Organization> = {}): Organization {
  return deepFreeze({
    organization_id: 'org-1',
    organization_alias: null,
    budget_id: null,
    spend: 0,
    models: [],
    metadata: {},
    budget: null,
    ...overrides,
  });
}

export function aProject(overrides: Partial<Project> = {}): Project {
  return deepFreeze({
    project_id: 'project-1',
    project_alias: null,
    team_id: null,
    budget_id: null,
    spend: 0,
    models: [],
    blocked: false,
    metadata: {},
    budget: null,
    ...overrides,
  });
}

export function aTag(overrides: Partial<Tag> = {}): Tag {
  return deepFreeze({ tag_name: 'tag-1', spend: 0, budget_id: null, budget: null, ...overrides });
}

export function anAccessGroup(overrides: Partial<AccessGroup> = {}): AccessGroup {
  return deepFreeze({
    access_group_id: 'ag-1',
    access_group_name: 'group one',
    access_model_names: [],
    ...overrides,
  });
}

export function aDeployment(overrides: Partial<ModelDeployment> = {}): ModelDeployment {
  return deepFreeze({
    modelName: 'gpt-4o',
    underlyingModel: 'openai/gpt-4o',
    accessGroups: [],
    inputCostPerToken: null,
    outputCostPerToken: null,
    clientsideAuthParams: null,
    ...overrides,
  });
}

export function aPolicy(overrides: Partial<Policy> = {}): Policy {
  return deepFreeze({
    modelList: [],
    modelAliasMap: {},
    modelGroupAlias: {},
    maxBudget: null,
    maxEndUserBudgetId: null,
    validateEndUserIdInDb: false,
    enforceUserParam: false,
    rejectClientsideMetadataTags: false,
    allowedRoutes: null,
    allowedIps: null,
    useXForwardedFor: false,
    publicRoutes: [],
    passThroughEndpoints: [],
    adminOnlyRoutes: [],
    allowClientSideCredentials: false,
    allowUserAuth: false,
    maxRequestSizeMb: null,
    proxyAdminName: 'default_user_id',
    ...overrides,
  });
}

/** A snapshot for a virtual-key request: by default a found, unrestricted key and nothing else. */
export function aSnapshot(overrides: Partial<Snapshot> = {}): Snapshot {
  return deepFreeze({
    key: aKey(),
    team: null,
    membership: null,
    user: null,
    endUser: null,
    organization: null,
    project: null,
    tags: [],
    accessGroups: new Map<string, AccessGroup>(),
    globalSpend: null,
    keyBudget: null,
    agent: null,
    objectPermissions: new Map<string, ObjectPermission>(),
    ...overrides,
  });
}

export function anAgent(overrides: Partial<Agent> = {}): Agent {
  return deepFreeze({ agent_id: 'agent-1', agent_name: 'agent one', litellm_params: {}, object_permission_id: null, ...overrides });
}

export function anObjectPermission(overrides: Partial<ObjectPermission> = {}): ObjectPermission {
  return deepFreeze({ object_permission_id: 'perm-1', vector_stores: [], ...overrides });
}

/** Object permission rows keyed by id, as the snapshot holds them. */
export function permissionsById(...rows: ObjectPermission[]): ReadonlyMap<string, ObjectPermission> {
  return new Map(rows.map((p) => [p.object_permission_id, p]));
}

/** Access groups keyed by id, as the snapshot holds them. */
export function accessGroupsById(...groups: AccessGroup[]): ReadonlyMap<string, AccessGroup> {
  return new Map(groups.map((g) => [g.access_group_id, g]));
}

/** By default a POST /chat/completions for gpt-4o with the test key. */
export function aRequest(overrides: Partial<RequestFacts> = {}): RequestFacts {
  const route = overrides.route ?? '/chat/completions';
  return deepFreeze({
    requestId: 'req-1',
    method: 'POST',
    route,
    path: route,
    headers: {},
    body: { model: 'gpt-4o', messages: [] },
    bodyTruncated: false,
    bodyInvalid: false,
    bodyBytes: 0,
    credential: { kind: 'present', value: RAW_KEY, header: 'authorization' },
    model: 'gpt-4o',
    endUserId: null,
    sourceAddress: '10.0.0.1',
    filterMetadata: {},
    ...overrides,
  });
}

export interface ContextParts {
  readonly request?: Partial<RequestFacts>;
  readonly snapshot?: Partial<Snapshot>;
  readonly policy?: Partial<Policy>;
  readonly now?: Date;
  readonly keyHash?: string | null;
}

export function aContext(parts: ContextParts = {}): CheckContext {
  return deepFreeze({
    request: aRequest(parts.request),
    snapshot: aSnapshot(parts.snapshot),
    policy: aPolicy(parts.policy),
    now: parts.now ?? NOW,
    keyHash: parts.keyHash === undefined ? KEY_HASH : parts.keyHash,
  });
}

/** Runs one check over a context built from `parts`. */
export function decide(check: Check, parts: ContextParts = {}): Denial | null {
  return check.decide(aContext(parts));
}
