/** `LiteLLM_ProjectTable`: projects sit between teams and keys. */
import { Entity, JoinColumn, ManyToOne } from 'typeorm';
import {
  BooleanColumn,
  DateTimeColumn,
  IdColumn,
  JsonColumn,
  SpendColumn,
  StringColumn,
  StringListColumn,
  TextColumn,
  type JsonValue,
} from './columns';
import { BudgetRecord } from './budget';

@Entity({ name: 'LiteLLM_ProjectTable' })
export class ProjectRecord {
  @IdColumn() project_id!: string;
  @StringColumn() project_alias!: string | null;
  @TextColumn() description!: string | null;
  @StringColumn() team_id!: string | null;
  @StringColumn() budget_id!: string | null;
  @JsonColumn({ defaultJson: '{}' }) metadata!: JsonValue;
  @StringListColumn() models!: string[];
  @SpendColumn() spend!: number;
  @JsonColumn({ defaultJson: '{}' }) model_spend!: JsonValue;
  @JsonColumn({ defaultJson: '{}' }) model_rpm_limit!: JsonValue;
  @JsonColumn({ defaultJson: '{}' }) model_tpm_limit!: JsonValue;
  @BooleanColumn({ default: false }) blocked!: boolean;
  @StringColumn() object_permission_id!: string | null;
  @DateTimeColumn({ nullable: false, defaultNow: true }) created_at!: Date;
  @StringColumn({ nullable: false }) created_by!: string;
  @DateTimeColumn({ nullable: false, defaultNow: true }) updated_at!: Date;
  @StringColumn({ nullable: false }) updated_by!: string;

  @ManyToOne(() => BudgetRecord, { createForeignKeyConstraints: false, nullable: true })
  @JoinColumn({ name: 'budget_id', referencedColumnName: 'budget_id' })
  litellm_budget_table?: BudgetRecord | null;
}
