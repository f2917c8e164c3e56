/** `LiteLLM_OrganizationTable`. The org's max_budget lives on its (required) budget row. */
import { Entity, JoinColumn, ManyToOne } from 'typeorm';
import { DateTimeColumn, IdColumn, JsonColumn, SpendColumn, StringColumn, StringListColumn, type JsonValue } from './columns';
import { BudgetRecord } from './budget';

@Entity({ name: 'LiteLLM_OrganizationTable' })
export class OrganizationRecord {
  @IdColumn() organization_id!: string;
  @StringColumn({ nullable: false }) organization_alias!: string;
  @StringColumn({ nullable: false }) budget_id!: string;
  @JsonColumn({ defaultJson: '{}' }) metadata!: JsonValue;
  @StringListColumn() models!: string[];
  @SpendColumn() spend!: number;
  @JsonColumn({ defaultJson: '{}' }) model_spend!: JsonValue;
  @StringColumn() object_permission_id!: string | null;
  @DateTimeColumn({ nullable: false, defaultNow: true }) created_at!: Date;
  @StringColumn({ nullable: false }) created_by!: string;
  @DateTimeColumn({ nullable: false, defaultNow: true }) updated_at!: Date;
  @StringColumn({ nullable: false }) updated_by!: string;

  @ManyToOne(() => BudgetRecord, { createForeignKeyConstraints: false, nullable: true })
  @JoinColumn({ name: 'budget_id', referencedColumnName: 'budget_id' })
  litellm_budget_table?: BudgetRecord | null;
}
