/** `LiteLLM_EndUserTable`: customers, i.e. the request's `user`. */
import { Entity, JoinColumn, ManyToOne } from 'typeorm';
import { BooleanColumn, IdColumn, JsonColumn, SpendColumn, StringColumn, type JsonValue } from './columns';
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
  /**
   * Multi-window budgets *[newer]*, added by migration 1764115900000: not selected by default, so
   * that a database it has not reached yet (LiteLLM's older schema, a rolling upgrade before
   * `tollgate migrate`) is still read; TypeOrmAuthStore asks for it where the column exists.
   */
  @JsonColumn({ nullable: true, select: false }) budget_limits!: JsonValue;

  @ManyToOne(() => BudgetRecord, { createForeignKeyConstraints: false, nullable: true })
  @JoinColumn({ name: 'budget_id', referencedColumnName: 'budget_id' })
  litellm_budget_table?: BudgetRecord | null;
}
