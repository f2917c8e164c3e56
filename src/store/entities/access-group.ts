/** `LiteLLM_AccessGroupTable`: DB ("unified") access groups, reached through `access_group_ids`. */
import { Entity, Index } from 'typeorm';
import { DateTimeColumn, IdColumn, StringColumn, StringListColumn, TextColumn } from './columns';

@Entity({ name: 'LiteLLM_AccessGroupTable' })
@Index('LiteLLM_AccessGroupTable_access_group_name_key', ['access_group_name'], { unique: true })
export class AccessGroupRecord {
  @IdColumn() access_group_id!: string;
  @StringColumn({ nullable: false }) access_group_name!: string;
  @TextColumn() description!: string | null;
  @StringListColumn() access_model_names!: string[];
  @StringListColumn() access_mcp_server_ids!: string[];
  @StringListColumn() access_agent_ids!: string[];
  @StringListColumn() assigned_team_ids!: string[];
  @StringListColumn() assigned_key_ids!: string[];
  @DateTimeColumn({ nullable: false, defaultNow: true }) created_at!: Date;
  @StringColumn() created_by!: string | null;
  @DateTimeColumn({ nullable: false, defaultNow: true }) updated_at!: Date;
  @StringColumn() updated_by!: string | null;
}
