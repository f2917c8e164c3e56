/** `LiteLLM_TeamMembership`: a user's spend and budget inside a team. No FK to team or user, as in LiteLLM. */
import { Entity, JoinColumn, ManyToOne, PrimaryColumn } from 'typeorm';
import { SpendColumn, StringColumn } from './columns';
import { BudgetRecord } from './budget';

@Entity({ name: 'LiteLLM_TeamMembership' })
export class TeamMembershipRecord {
  @PrimaryColumn({ type: 'varchar', length: 255 }) user_id!: string;
  @PrimaryColumn({ type: 'varchar', length: 255 }) team_id!: string;
  @SpendColumn() spend!: number;
  @SpendColumn() total_spend!: number;
  @StringColumn() budget_id!: string | null;

  @ManyToOne(() => BudgetRecord, { createForeignKeyConstraints: false, nullable: true })
  @JoinColumn({ name: 'budget_id', referencedColumnName: 'budget_id' })
  litellm_budget_table?: BudgetRecord | null;
}
