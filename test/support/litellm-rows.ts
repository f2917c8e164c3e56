/**
 * Named builders that insert LiteLLM rows the way any tool following LiteLLM's schema would,
 * straight through the entities (not through the admin store under test). Each fills the
 * columns LiteLLM requires and takes overrides for the rest.
 */
import { randomBytes } from 'node:crypto';
import type { DataSource, DeepPartial, EntityTarget, ObjectLiteral } from 'typeorm';
import {
  AccessGroupRecord,
  AgentRecord,
  BudgetRecord,
  EndUserRecord,
  ModelTableRecord,
  ObjectPermissionRecord,
  OrganizationMembershipRecord,
  OrganizationRecord,
  ProjectRecord,
  ProxyModelRecord,
  SpendLogRecord,
  TagRecord,
  TeamMembershipRecord,
  TeamRecord,
  UserRecord,
  VerificationTokenRecord,
} from '../../src/store/entities';

export function uniqueId(prefix: string): string {
  return `${prefix}-${randomBytes(5).toString('hex')}`;
}

/** A sha256-shaped (64 hex) token that is unique per call. */
export function aTokenHash(): string {
  return randomBytes(32).toString('hex');
}

const audit = () => ({ created_by: 'test', updated_by: 'test' });

export class LiteLlmRows {
  constructor(private readonly dataSource: DataSource) {}

  aBudget(row: Partial<BudgetRecord> = {}): Promise<BudgetRecord> {
    return this.insert(BudgetRecord, { budget_id: uniqueId('budget'), ...audit(), ...row });
  }

  aKey(row: Partial<VerificationTokenRecord> = {}): Promise<VerificationTokenRecord> {
    return this.insert(VerificationTokenRecord, { token: aTokenHash(), ...row });
  }

  aModelTable(aliases: Record<string, string>): Promise<ModelTableRecord> {
    return this.insert(ModelTableRecord, { aliases, ...audit() });
  }

  aTeam(row: Partial<TeamRecord> = {}): Promise<TeamRecord> {
    return this.insert(TeamRecord, { team_id: uniqueId('team'), ...row });
  }

  aTeamMembership(row: Partial<TeamMembershipRecord> & Pick<TeamMembershipRecord, 'user_id' | 'team_id'>): Promise<TeamMembershipRecord> {
    return this.insert(TeamMembershipRecord, row);
  }

  aUser(row: Partial<UserRecord> = {}): Promise<UserRecord> {
    return this.insert(UserRecord, { user_id: uniqueId('user'), ...row });
  }

  anOrganizationMembership(
    row: Partial<OrganizationMembershipRecord> & Pick<OrganizationMembershipRecord, 'user_id' | 'organization_id'>,
  ): Promise<OrganizationMembershipRecord> {
    return this.insert(OrganizationMembershipRecord, row);
  }

  anEndUser(row: Partial<EndUserRecord> = {}): Promise<EndUserRecord> {
    return this.insert(EndUserRecord, { user_id: uniqueId('end-user'), ...row });
  }

  async anOrganization(row: Partial<OrganizationRecord> = {}): Promise<OrganizationRecord> {
    const budgetId = row.budget_id ?? (await this.aBudget()).budget_id;
    return this.insert(OrganizationRecord, {
      organization_id: uniqueId('org'),
      organization_alias: 'an org',
      budget_id: budgetId,
      ...audit(),
      ...row,
    });
  }

  aProject(row: Partial<ProjectRecord> = {}): Promise<ProjectRecord> {
    return this.insert(ProjectRecord, { project_id: uniqueId('project'), ...audit(), ...row });
  }

  aTag(row: Partial<TagRecord> = {}): Promise<TagRecord> {
    return this.insert(TagRecord, { tag_name: uniqueId('tag'), ...row });
  }

  anAccessGroup(row: Partial<AccessGroupRecord> = {}): Promise<AccessGroupRecord> {
    const id = row.access_group_id ?? uniqueId('ag');
    return this.insert(AccessGroupRecord, { access_group_id: id, access_group_name: `name-${id}`, ...row });
  }

  anObjectPermission(row: Partial<ObjectPermissionRecord> = {}): Promise<ObjectPermissionRecord> {
    return this.insert(ObjectPermissionRecord, { object_permission_id: uniqueId('perm'), ...row });
  }

  anAgent(row: Partial<AgentRecord> = {}): Promise<AgentRecord> {
    const id = row.agent_id ?? uniqueId('agent');
    return this.insert(AgentRecord, { agent_id: id, agent_name: `name-${id}`, agent_card_params: {}, ...audit(), ...row });
  }

  /** A model LiteLLM stores in its database (`store_model_in_db`), as its UI adds one. */
  aProxyModel(row: Partial<ProxyModelRecord> & Pick<ProxyModelRecord, 'model_name'>): Promise<ProxyModelRecord> {
    return this.insert(ProxyModelRecord, { model_id: uniqueId('model'), litellm_params: { model: 'openai/gpt-4o' }, model_info: {}, ...audit(), ...row });
  }

  aSpendLog(row: Partial<SpendLogRecord> & Pick<SpendLogRecord, 'spend' | 'startTime'>): Promise<SpendLogRecord> {
    return this.insert(SpendLogRecord, {
      request_id: uniqueId('req'),
      call_type: 'acompletion',
      endTime: row.startTime,
      ...row,
    });
  }

  private async insert<E extends ObjectLiteral>(entity: EntityTarget<E>, row: Partial<E>): Promise<E> {
    const repository = this.dataSource.getRepository(entity);
    const record = repository.create(row as DeepPartial<E>);
    await repository.insert(record);
    return record;
  }
}
