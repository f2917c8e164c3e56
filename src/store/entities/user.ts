/** `LiteLLM_UserTable`: internal users (key owners). */
import { Entity, Index, OneToMany } from 'typeorm';
import {
  BigIntColumn,
  DateTimeColumn,
  DoubleColumn,
  IdColumn,
  IntColumn,
  JsonColumn,
  SpendColumn,
  StringColumn,
  StringListColumn,
  TextColumn,
  type JsonValue,
} from './columns';
import { OrganizationMembershipRecord } from './organization-membership';

@Entity({ name: 'LiteLLM_UserTable' })
@Index('LiteLLM_UserTable_sso_user_id_key', ['sso_user_id'], { unique: true })
export class UserRecord {
  @IdColumn() user_id!: string;
  @StringColumn() user_alias!: string | null;
  @StringColumn() team_id!: string | null;
  @StringColumn() sso_user_id!: string | null;
  @StringColumn() organization_id!: string | null;
  @StringColumn() object_permission_id!: string | null;
  @TextColumn() password!: string | null;
  @StringListColumn() teams!: string[];
  @StringColumn() user_role!: string | null;
  @DoubleColumn() max_budget!: number | null;
  @SpendColumn() spend!: number;
  @StringColumn() user_email!: string | null;
  @StringListColumn() models!: string[];
  @JsonColumn({ defaultJson: '{}' }) metadata!: JsonValue;
  @IntColumn() max_parallel_requests!: number | null;
  @BigIntColumn() tpm_limit!: number | null;
  @BigIntColumn() rpm_limit!: number | null;
  @StringColumn() budget_duration!: string | null;
  @DateTimeColumn() budget_reset_at!: Date | null;
  @StringListColumn() allowed_cache_controls!: string[];
  @StringListColumn() policies!: string[];
  @JsonColumn({ defaultJson: '{}' }) model_spend!: JsonValue;
  @JsonColumn({ defaultJson: '{}' }) model_max_budget!: JsonValue;
  /**
   * Multi-window budgets *[newer]*, added by migration 1764115900000: not selected by default, so
   * that a database it has not reached yet (LiteLLM's older schema, a rolling upgrade before
   * `tollgate migrate`) is still read; TypeOrmAuthStore asks for it where the column exists.
   */
  @JsonColumn({ nullable: true, select: false }) budget_limits!: JsonValue;
  @DateTimeColumn({ defaultNow: true }) created_at!: Date | null;
  @DateTimeColumn({ defaultNow: true }) updated_at!: Date | null;

  /** Prisma relation `organization_memberships`: LiteLLM always loads it with the user. */
  @OneToMany(() => OrganizationMembershipRecord, (membership) => membership.user)
  organization_memberships?: OrganizationMembershipRecord[];
}
