/** `LiteLLM_Config`: `general_settings`, `litellm_settings`… when LiteLLM stores its config in the DB. */
import { Entity } from 'typeorm';
import { IdColumn, JsonColumn, type JsonValue } from './columns';

@Entity({ name: 'LiteLLM_Config' })
export class ConfigRecord {
  @IdColumn() param_name!: string;
  @JsonColumn({ nullable: true }) param_value!: JsonValue;
}
