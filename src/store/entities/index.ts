/** The LiteLLM tables Tollgate maps, as TypeORM entities (litellm-schema.md §2). */
import { AccessGroupRecord } from './access-group';
import { AgentRecord } from './agent';
import { BudgetRecord } from './budget';
import { ConfigRecord } from './config';
import { DeprecatedVerificationTokenRecord } from './deprecated-verification-token';
import { EndUserRecord } from './end-user';
import { JwtKeyMappingRecord } from './jwt-key-mapping';
import { ModelTableRecord } from './model-table';
import { ObjectPermissionRecord } from './object-permission';
import { OrganizationRecord } from './organization';
import { OrganizationMembershipRecord } from './organization-membership';
import { ProjectRecord } from './project';
import { ProxyModelRecord } from './proxy-model';
import { SpendLogRecord } from './spend-log';
import { TagRecord } from './tag';
import { TeamRecord } from './team';
import { TeamMembershipRecord } from './team-membership';
import { UserRecord } from './user';
import { VerificationTokenRecord } from './verification-token';

export {
  AccessGroupRecord,
  AgentRecord,
  BudgetRecord,
  ConfigRecord,
  DeprecatedVerificationTokenRecord,
  EndUserRecord,
  JwtKeyMappingRecord,
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
};

export const LITELLM_ENTITIES = [
  AccessGroupRecord,
  AgentRecord,
  BudgetRecord,
  ConfigRecord,
  DeprecatedVerificationTokenRecord,
  EndUserRecord,
  JwtKeyMappingRecord,
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
] as const;
