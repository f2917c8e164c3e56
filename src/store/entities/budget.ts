/** `LiteLLM_BudgetTable`: shared budget/limit rows for orgs, tags, projects, members, end users and keys. */
import { Entity } from 'typeorm';
import {
  BigIntColumn,
  DateTimeColumn,
  DoubleColumn,
  IdColumn,
  IntColumn,
  JsonColumn,
  StringColumn,
  StringListColumn,
  type JsonValue,
} from './columns';

@Entity({ name: 'LiteLLM_BudgetTable' })
export class BudgetRecord {
  @IdColumn() budget_id!: string;
  @DoubleColumn() max_budget!: number | null;
  @DoubleColumn() soft_budget!: number | null;
  @IntColumn() max_parallel_requests!: number | null;
  @BigIntColumn() tpm_limit!: number | null;
  @BigIntColumn() rpm_limit!: number | null;
  @JsonColumn({ nullable: true }) model_max_budget!: JsonValue;
  @StringColumn() budget_duration!: string | null;
  @DateTimeColumn() budget_reset_at!: Date | null;
  @StringListColumn() allowed_models!: string[];
  @DateTimeColumn({ nullable: false, defaultNow: true }) created_at!: Date;
  @StringColumn({ nullable: false }) created_by!: string;
  @DateTimeColumn({ nullable: false, defaultNow: true }) updated_at!: Date;
  @StringColumn({ nullable: false }) updated_by!: string;
}
