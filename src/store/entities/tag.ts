/** `LiteLLM_TagTable`: request tags with budgets. */
import { Entity, JoinColumn, ManyToOne } from 'typeorm';
import { DateTimeColumn, IdColumn, JsonColumn, SpendColumn, StringColumn, StringListColumn, TextColumn, type JsonValue } from './columns';
import { BudgetRecord } from './budget';

@Entity({ name: 'LiteLLM_TagTable' })
export class TagRecord {
  @IdColumn() tag_name!: string;
  @TextColumn() description!: string | null;
  @StringListColumn() models!: string[];
  @JsonColumn({ nullable: true }) model_info!: JsonValue;
  @SpendColumn() spend!: number;
  @StringColumn() budget_id!: string | null;
  @DateTimeColumn({ nullable: false, defaultNow: true }) created_at!: Date;
  @StringColumn() created_by!: string | null;
  @DateTimeColumn({ nullable: false, defaultNow: true }) updated_at!: Date;

  @ManyToOne(() => BudgetRecord, { createForeignKeyConstraints: false, nullable: true })
  @JoinColumn({ name: 'budget_id', referencedColumnName: 'budget_id' })
  litellm_budget_table?: BudgetRecord | null;
}
