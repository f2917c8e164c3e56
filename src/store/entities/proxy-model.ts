/** `LiteLLM_ProxyModelTable`: the DB-stored model list (router access groups live in `model_info`). */
import { Entity } from 'typeorm';
import { BooleanColumn, DateTimeColumn, IdColumn, JsonColumn, StringColumn, type JsonValue } from './columns';

@Entity({ name: 'LiteLLM_ProxyModelTable' })
export class ProxyModelRecord {
  @IdColumn() model_id!: string;
  @StringColumn({ nullable: false }) model_name!: string;
  @JsonColumn() litellm_params!: JsonValue;
  @JsonColumn({ nullable: true }) model_info!: JsonValue;
  @BooleanColumn({ default: false }) blocked!: boolean;
  @DateTimeColumn({ nullable: false, defaultNow: true }) created_at!: Date;
  @StringColumn({ nullable: false }) created_by!: string;
  @DateTimeColumn({ nullable: false, defaultNow: true }) updated_at!: Date;
  @StringColumn({ nullable: false }) updated_by!: string;
}
