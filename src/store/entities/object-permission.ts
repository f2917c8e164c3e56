/** `LiteLLM_ObjectPermissionTable`: vector store / MCP / agent allowlists of keys, teams, users… */
import { Entity } from 'typeorm';
import { IdColumn, JsonColumn, StringListColumn, type JsonValue } from './columns';

@Entity({ name: 'LiteLLM_ObjectPermissionTable' })
export class ObjectPermissionRecord {
  @IdColumn() object_permission_id!: string;
  @StringListColumn() mcp_servers!: string[];
  @StringListColumn() mcp_access_groups!: string[];
  @JsonColumn({ nullable: true }) mcp_tool_permissions!: JsonValue;
  /** `[]` = every vector store allowed. */
  @StringListColumn() vector_stores!: string[];
  @StringListColumn() agents!: string[];
  @StringListColumn() agent_access_groups!: string[];
  @StringListColumn() models!: string[];
  @StringListColumn() blocked_tools!: string[];
  @StringListColumn() mcp_toolsets!: string[];
  @StringListColumn() search_tools!: string[];
}
