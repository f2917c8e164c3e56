/** `LiteLLM_OrganizationMembership`: a user's role inside an organization (org RBAC). */
import { Entity, JoinColumn, ManyToOne, PrimaryColumn } from 'typeorm';
import { DateTimeColumn, DoubleColumn, StringColumn } from './columns';
import { UserRecord } from './user';

@Entity({ name: 'LiteLLM_OrganizationMembership' })
export class OrganizationMembershipRecord {
  @PrimaryColumn({ type: 'varchar', length: 255 }) user_id!: string;
  @PrimaryColumn({ type: 'varchar', length: 255 }) organization_id!: string;
  @StringColumn() user_role!: string | null;
  @DoubleColumn({ default: 0 }) spend!: number | null;
  @StringColumn() budget_id!: string | null;
  @DateTimeColumn({ defaultNow: true }) created_at!: Date | null;
  @DateTimeColumn({ defaultNow: true }) updated_at!: Date | null;

  @ManyToOne(() => UserRecord, (user) => user.organization_memberships, { createForeignKeyConstraints: false })
  @JoinColumn({ name: 'user_id', referencedColumnName: 'user_id' })
  user?: UserRecord;
}
