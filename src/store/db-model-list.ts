/**
 * The models LiteLLM keeps in `LiteLLM_ProxyModelTable` (`store_model_in_db`), as `model_list`
 * entries: its router serves them beside the YAML's, with their access groups, wildcards and prices.
 *
 * A row has the entry's shape: `model_name`, `litellm_params`, `model_info`, with `model_id` as
 * the deployment's id. LiteLLM encrypts the string values of `litellm_params` (the underlying
 * `model` among them) with its salt key; Tollgate does not decrypt them, so a DB model's
 * underlying name is whatever is stored (nobody names a ciphertext), while its numbers (prices)
 * and lists (`configurable_clientside_auth_params`) are stored in the clear and read. Blocked rows
 * are left out, and a row that is not a valid entry is skipped and counted.
 */
import type { DataSource } from 'typeorm';
import { modelDeploymentSchema, type ModelDeploymentConfig } from '../config/litellm-config';
import { withDeadline } from './deadline';
import { ProxyModelRecord } from './entities';
import { isJsonObject } from './json-values';

export interface DatabaseModelList {
  readonly models: readonly ModelDeploymentConfig[];
  /** Rows that could not be read as a model_list entry (left out). */
  readonly skipped: number;
}

/** A row as the model_list entry LiteLLM's router builds from it; null when it is not one. */
export function modelListEntryOf(row: Pick<ProxyModelRecord, 'model_id' | 'model_name' | 'litellm_params' | 'model_info'>): ModelDeploymentConfig | null {
  const info = isJsonObject(row.model_info) ? row.model_info : {};
  const parsed = modelDeploymentSchema.safeParse({
    model_name: row.model_name,
    litellm_params: isJsonObject(row.litellm_params) ? row.litellm_params : {},
    model_info: { ...info, id: row.model_id },
  });
  return parsed.success ? parsed.data : null;
}

export async function readDatabaseModelList(dataSource: DataSource, timeoutMs: number): Promise<DatabaseModelList> {
  const rows = await withDeadline('findProxyModels', timeoutMs, () =>
    dataSource.getRepository(ProxyModelRecord).find({
      select: { model_id: true, model_name: true, litellm_params: true, model_info: true },
      where: { blocked: false },
      order: { model_id: 'ASC' },
    }),
  );
  const models: ModelDeploymentConfig[] = [];
  for (const row of rows) {
    const entry = modelListEntryOf(row);
    if (entry !== null) models.push(entry);
  }
  return { models, skipped: rows.length - models.length };
}
