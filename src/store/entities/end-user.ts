/** `LiteLLM_EndUserTable`: customers, i.e. the request's `user`. */
import { Entity, JoinColumn, ManyToOne } from 'typeorm';
import { BooleanColumn, IdColumn, SpendColumn, StringColumn } from './columns';
import { BudgetRecord } from './budget';

@Entity({ name: 'LiteLLM_EndUserTable' })
export class EndUserRecord {
  @IdColumn() user_id!: string;
  @StringColumn() alias!: string | null;
  @SpendColumn() spend!: number;
  @StringColumn() allowed_model_region!: string | null;
  @StringColumn() default_model!: string | null;
  @StringColumn() budget_id!: string | null;
  @StringColumn() object_permission_id!: string | null;
  @BooleanColumn({ default: false }) blocked!: boolean;

  @ManyToOne(() => BudgetRecord, { createForeignKeyConstraints: false, nullable: true })
  @JoinColumn({ name: 'budget_id', referencedColumnName: 'budget_id' })
  litellm_budget_table?: BudgetRecord | null;
}
