/** Which row holds each spend counter the CLI can overwrite. */
import type { EntityTarget, ObjectLiteral } from 'typeorm';
import { AdminInputError, type OrganizationMemberId, type SpendKind, type TeamMemberId } from './admin-inputs';
import {
  EndUserRecord,
  OrganizationMembershipRecord,
  OrganizationRecord,
  ProjectRecord,
  TagRecord,
  TeamMembershipRecord,
  TeamRecord,
  UserRecord,
  VerificationTokenRecord,
} from './entities';

export type SpendTargetKind = SpendKind | 'team_membership' | 'organization_membership';
export type SpendTargetId = string | TeamMemberId | OrganizationMemberId;

const SINGLE_ID_TABLES: Record<SpendKind, { readonly entity: EntityTarget<ObjectLiteral>; readonly idColumn: string }> = {
  key: { entity: VerificationTokenRecord, idColumn: 'token' },
  team: { entity: TeamRecord, idColumn: 'team_id' },
  user: { entity: UserRecord, idColumn: 'user_id' },
  end_user: { entity: EndUserRecord, idColumn: 'user_id' },
  organization: { entity: OrganizationRecord, idColumn: 'organization_id' },
  project: { entity: ProjectRecord, idColumn: 'project_id' },
  tag: { entity: TagRecord, idColumn: 'tag_name' },
};

export interface SpendRow {
  readonly entity: EntityTarget<ObjectLiteral>;
  /** Equality criteria on the primary key, passed to TypeORM as parameters. */
  readonly where: Readonly<Record<string, string>>;
}

export function spendRow(kind: SpendTargetKind, id: SpendTargetId): SpendRow {
  if (kind === 'team_membership') {
    if (typeof id === 'string' || !('teamId' in id)) throw new AdminInputError('team_membership spend needs { userId, teamId }');
    return { entity: TeamMembershipRecord, where: { user_id: id.userId, team_id: id.teamId } };
  }
  if (kind === 'organization_membership') {
    if (typeof id === 'string' || !('organizationId' in id)) {
      throw new AdminInputError('organization_membership spend needs { userId, organizationId }');
    }
    return { entity: OrganizationMembershipRecord, where: { user_id: id.userId, organization_id: id.organizationId } };
  }
  if (typeof id !== 'string') throw new AdminInputError(`${kind} spend needs a single id`);
  const table = SINGLE_ID_TABLES[kind];
  return { entity: table.entity, where: { [table.idColumn]: id } };
}
