/** `LiteLLM_ModelTable`: team-level model aliases, reached through `LiteLLM_TeamTable.model_id`. */
import { Entity, PrimaryGeneratedColumn } from 'typeorm';
import { DateTimeColumn, JsonColumn, StringColumn, type JsonValue } from './columns';

@Entity({ name: 'LiteLLM_ModelTable' })
export class ModelTableRecord {
  @PrimaryGeneratedColumn('increment', { type: 'int' }) id!: number;
  /** Prisma field `model_aliases`, column `aliases` (`@map("aliases")`): alias → model name. */
  @JsonColumn({ name: 'aliases', nullable: true }) aliases!: JsonValue;
  @DateTimeColumn({ nullable: false, defaultNow: true }) created_at!: Date;
  @StringColumn({ nullable: false }) created_by!: string;
  @DateTimeColumn({ nullable: false, defaultNow: true }) updated_at!: Date;
  @StringColumn({ nullable: false }) updated_by!: string;
}
