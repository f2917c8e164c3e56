/** `LiteLLM_VerificationToken`: virtual keys, looked up by `token` = sha256 hex of the raw key. */
import { Entity, Index, PrimaryColumn } from 'typeorm';
import {
  BigIntColumn,
  BooleanColumn,
  DateTimeColumn,
  DoubleColumn,
  IntColumn,
  JsonColumn,
  SpendColumn,
  StringColumn,
  StringListColumn,
  type JsonValue,
} from './columns';

/** sha256 hex is 64 characters; the column is no wider (litellm-schema.md §4). */
export const TOKEN_LENGTH = 64;

@Entity({ name: 'LiteLLM_VerificationToken' })
@Index('LiteLLM_VerificationToken_user_id_team_id_idx', ['user_id', 'team_id'])
@Index('LiteLLM_VerificationToken_team_id_idx', ['team_id'])
@Index('LiteLLM_VerificationToken_budget_reset_at_expires_idx', ['budget_reset_at', 'expires'])
export class VerificationTokenRecord {
  @PrimaryColumn({ type: 'varchar', length: TOKEN_LENGTH }) token!: string;
  @StringColumn() key_name!: string | null;
  @StringColumn() key_alias!: string | null;
  @BooleanColumn({ default: false }) soft_budget_cooldown!: boolean;
  @SpendColumn() spend!: number;
  @DateTimeColumn() expires!: Date | null;
  @StringListColumn() models!: string[];
  @JsonColumn({ defaultJson: '{}' }) aliases!: JsonValue;
  @JsonColumn({ defaultJson: '{}' }) config!: JsonValue;
  @JsonColumn({ nullable: true, defaultJson: '{}' }) router_settings!: JsonValue;
  @StringColumn() user_id!: string | null;
  @StringColumn() team_id!: string | null;
  @StringColumn() agent_id!: string | null;
  @StringColumn() project_id!: string | null;
  @JsonColumn({ defaultJson: '{}' }) permissions!: JsonValue;
  @IntColumn() max_parallel_requests!: number | null;
  @JsonColumn({ defaultJson: '{}' }) metadata!: JsonValue;
  @BooleanColumn({ nullable: true }) blocked!: boolean | null;
  @BigIntColumn() tpm_limit!: number | null;
  @BigIntColumn() rpm_limit!: number | null;
  @DoubleColumn() max_budget!: number | null;
  @StringColumn() budget_duration!: string | null;
  @DateTimeColumn() budget_reset_at!: Date | null;
  @StringListColumn() allowed_cache_controls!: string[];
  @StringListColumn() allowed_routes!: string[];
  @StringListColumn() policies!: string[];
  @StringListColumn() access_group_ids!: string[];
  @JsonColumn({ defaultJson: '{}' }) model_spend!: JsonValue;
  @JsonColumn({ defaultJson: '{}' }) model_max_budget!: JsonValue;
  @StringColumn() budget_id!: string | null;
  @StringColumn() organization_id!: string | null;
  @StringColumn() object_permission_id!: string | null;
  @DateTimeColumn({ defaultNow: true }) created_at!: Date | null;
  @StringColumn() created_by!: string | null;
  @DateTimeColumn({ defaultNow: true }) updated_at!: Date | null;
  @StringColumn() updated_by!: string | null;
  @DateTimeColumn() last_active!: Date | null;
  @IntColumn({ default: 0 }) rotation_count!: number | null;
  @BooleanColumn({ nullable: true, default: false }) auto_rotate!: boolean | null;
  @StringColumn() rotation_interval!: string | null;
  @DateTimeColumn() last_rotation_at!: Date | null;
  @DateTimeColumn() key_rotation_at!: Date | null;
  @JsonColumn({ nullable: true }) budget_limits!: JsonValue;
}
