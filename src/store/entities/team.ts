/** `LiteLLM_TeamTable`. */
import { Entity, Index, JoinColumn, ManyToOne } from 'typeorm';
import {
  BigIntColumn,
  BooleanColumn,
  DateTimeColumn,
  DoubleColumn,
  IdColumn,
  IntColumn,
  JsonColumn,
  SpendColumn,
  StringColumn,
  StringListColumn,
  type JsonValue,
} from './columns';
import { ModelTableRecord } from './model-table';

@Entity({ name: 'LiteLLM_TeamTable' })
@Index('LiteLLM_TeamTable_organization_id_idx', ['organization_id'])
@Index('LiteLLM_TeamTable_team_alias_idx', ['team_alias'])
@Index('LiteLLM_TeamTable_created_at_idx', ['created_at'])
@Index('LiteLLM_TeamTable_model_id_key', ['model_id'], { unique: true })
export class TeamRecord {
  @IdColumn() team_id!: string;
  @StringColumn() team_alias!: string | null;
  @StringColumn() organization_id!: string | null;
  @StringColumn() object_permission_id!: string | null;
  @StringListColumn() admins!: string[];
  @StringListColumn() members!: string[];
  /** A list of `{user_id, user_email, role}` despite Prisma's `@default("{}")`. */
  @JsonColumn({ defaultJson: '{}' }) members_with_roles!: JsonValue;
  @JsonColumn({ defaultJson: '{}' }) metadata!: JsonValue;
  @DoubleColumn() max_budget!: number | null;
  @DoubleColumn() soft_budget!: number | null;
  @SpendColumn() spend!: number;
  @StringListColumn() models!: string[];
  @IntColumn() max_parallel_requests!: number | null;
  @BigIntColumn() tpm_limit!: number | null;
  @BigIntColumn() rpm_limit!: number | null;
  @StringColumn() budget_duration!: string | null;
  @DateTimeColumn() budget_reset_at!: Date | null;
  @BooleanColumn({ default: false }) blocked!: boolean;
  @DateTimeColumn({ nullable: false, defaultNow: true }) created_at!: Date;
  @DateTimeColumn({ nullable: false, defaultNow: true }) updated_at!: Date;
  @JsonColumn({ defaultJson: '{}' }) model_spend!: JsonValue;
  @JsonColumn({ defaultJson: '{}' }) model_max_budget!: JsonValue;
  @JsonColumn({ nullable: true, defaultJson: '{}' }) router_settings!: JsonValue;
  @StringListColumn() team_member_permissions!: string[];
  @StringListColumn() access_group_ids!: string[];
  @StringListColumn() policies!: string[];
  @StringListColumn() default_team_member_models!: string[];
  @JsonColumn({ nullable: true }) budget_limits!: JsonValue;
  @IntColumn() model_id!: number | null;
  @BooleanColumn({ default: false }) allow_team_guardrail_config!: boolean;

  /** Prisma relation `litellm_model_table` (team model aliases); loaded only when joined. */
  @ManyToOne(() => ModelTableRecord, { createForeignKeyConstraints: false, nullable: true })
  @JoinColumn({ name: 'model_id', referencedColumnName: 'id' })
  litellm_model_table?: ModelTableRecord | null;
}
