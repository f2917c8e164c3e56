/** `LiteLLM_SpendLogs`: one row per request; the source of the rolling 30-day global spend. */
import { Entity, Index } from 'typeorm';
import { DateTimeColumn, IdColumn, IntColumn, JsonColumn, SpendColumn, StringColumn, TextColumn, type JsonValue } from './columns';

@Entity({ name: 'LiteLLM_SpendLogs' })
@Index('LiteLLM_SpendLogs_startTime_idx', ['startTime'])
@Index('LiteLLM_SpendLogs_startTime_request_id_idx', ['startTime', 'request_id'])
@Index('LiteLLM_SpendLogs_end_user_idx', ['end_user'])
@Index('LiteLLM_SpendLogs_session_id_idx', ['session_id'])
export class SpendLogRecord {
  @IdColumn() request_id!: string;
  @StringColumn({ nullable: false }) call_type!: string;
  /** The key hash (same value as `LiteLLM_VerificationToken.token`), never the raw key. */
  @StringColumn({ nullable: false, default: '' }) api_key!: string;
  @SpendColumn() spend!: number;
  @IntColumn({ nullable: false, default: 0 }) total_tokens!: number;
  @IntColumn({ nullable: false, default: 0 }) prompt_tokens!: number;
  @IntColumn({ nullable: false, default: 0 }) completion_tokens!: number;
  /** camelCase column names, as in LiteLLM. */
  @DateTimeColumn({ name: 'startTime', nullable: false }) startTime!: Date;
  @DateTimeColumn({ name: 'endTime', nullable: false }) endTime!: Date;
  @IntColumn() request_duration_ms!: number | null;
  @DateTimeColumn({ name: 'completionStartTime' }) completionStartTime!: Date | null;
  @StringColumn({ nullable: false, default: '' }) model!: string;
  @StringColumn({ default: '' }) model_id!: string | null;
  @StringColumn({ default: '' }) model_group!: string | null;
  @StringColumn({ default: '' }) custom_llm_provider!: string | null;
  @TextColumn() api_base!: string | null;
  @StringColumn({ default: '' }) user!: string | null;
  @JsonColumn({ nullable: true, defaultJson: '{}' }) metadata!: JsonValue;
  @StringColumn({ default: '' }) cache_hit!: string | null;
  @StringColumn({ default: '' }) cache_key!: string | null;
  @JsonColumn({ nullable: true, defaultJson: '[]' }) request_tags!: JsonValue;
  @StringColumn() team_id!: string | null;
  @StringColumn() organization_id!: string | null;
  @StringColumn() end_user!: string | null;
  @StringColumn() requester_ip_address!: string | null;
  @JsonColumn({ nullable: true, defaultJson: '{}' }) messages!: JsonValue;
  @JsonColumn({ nullable: true, defaultJson: '{}' }) response!: JsonValue;
  @StringColumn() session_id!: string | null;
  @StringColumn() status!: string | null;
  @StringColumn() mcp_namespaced_tool_name!: string | null;
  @StringColumn() agent_id!: string | null;
  @JsonColumn({ nullable: true, defaultJson: '{}' }) proxy_server_request!: JsonValue;
}
