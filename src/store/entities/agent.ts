/** `LiteLLM_AgentsTable`: agents; a key's `agent_id` names one (trace-id requirement, §4 step 2a). */
import { Entity, Index } from 'typeorm';
import { DateTimeColumn, IdColumn, IntColumn, JsonColumn, SpendColumn, StringColumn, StringListColumn, type JsonValue } from './columns';

@Entity({ name: 'LiteLLM_AgentsTable' })
@Index('LiteLLM_AgentsTable_agent_name_key', ['agent_name'], { unique: true })
export class AgentRecord {
  @IdColumn() agent_id!: string;
  @StringColumn({ nullable: false }) agent_name!: string;
  /** Holds `require_trace_id_on_calls_by_agent`. */
  @JsonColumn({ nullable: true }) litellm_params!: JsonValue;
  @JsonColumn({ defaultJson: '{}' }) agent_card_params!: JsonValue;
  @JsonColumn({ nullable: true, defaultJson: '{}' }) static_headers!: JsonValue;
  @StringListColumn() extra_headers!: string[];
  @StringListColumn() agent_access_groups!: string[];
  @StringColumn() object_permission_id!: string | null;
  @SpendColumn() spend!: number;
  @IntColumn() tpm_limit!: number | null;
  @IntColumn() rpm_limit!: number | null;
  @IntColumn() session_tpm_limit!: number | null;
  @IntColumn() session_rpm_limit!: number | null;
  @DateTimeColumn({ nullable: false, defaultNow: true }) created_at!: Date;
  @StringColumn({ nullable: false, default: '' }) created_by!: string;
  @DateTimeColumn({ nullable: false, defaultNow: true }) updated_at!: Date;
  @StringColumn({ nullable: false, default: '' }) updated_by!: string;
}
