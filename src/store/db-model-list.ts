/**
 * The models LiteLLM keeps in `LiteLLM_ProxyModelTable` (`store_model_in_db`), as `model_list`
 * entries: its router serves them beside the YAML's, with their access groups, wildcards and prices.
 *
 * A row has the entry's shape: `model_name`, `litellm_params`, `model_info`, with `model_id` as
 * the deployment's id. LiteLLM encrypts the string values of `litellm_params` with its salt key
 * (store/litellm-at-rest.ts). Of those only the strings a check, the rate limits or metering read
 * are decrypted: the underlying `model`, and `default_api_key_rpm_limit` / `_tpm_limit` when saved
 * as text. The provider's credentials (`api_key`, …) stay ciphertext in this process. Numbers (prices) and lists (`configurable_clientside_auth_params`) are stored in the
 * clear. Blocked rows are left out, and a row that is not a valid entry is skipped and counted.
 */
import type { DataSource } from 'typeorm';
import { modelDeploymentSchema, type ModelDeploymentConfig } from '../config/litellm-config';
import { withDeadline } from './deadline';
import { decryptStoredValue } from './litellm-at-rest';
import { ProxyModelRecord } from './entities';
import { isJsonObject } from './json-values';

export interface DatabaseModelList {
  readonly models: readonly ModelDeploymentConfig[];
  /** Rows that could not be read as a model_list entry (left out). */
  readonly skipped: number;
}

type ProxyModelRow = Pick<ProxyModelRecord, 'model_id' | 'model_name' | 'litellm_params' | 'model_info'>;

/**
 * A row as the model_list entry LiteLLM's router builds from it; null when it is not one.
 * `signingKey` is LITELLM_SALT_KEY, else the master key (null: values are read as stored).
 */
export function modelListEntryOf(row: ProxyModelRow, signingKey: string | null): ModelDeploymentConfig | null {
  const info = isJsonObject(row.model_info) ? row.model_info : {};
  const params = isJsonObject(row.litellm_params) ? row.litellm_params : {};
  const parsed = modelDeploymentSchema.safeParse({
    model_name: row.model_name,
    litellm_params: decryptedParams(params, signingKey),
    model_info: { ...info, id: row.model_id },
  });
  return parsed.success ? parsed.data : null;
}

/** The string params Tollgate reads; every other value as stored. */
const READ_PARAMS = ['model', 'default_api_key_rpm_limit', 'default_api_key_tpm_limit'] as const;

function decryptedParams(params: Readonly<Record<string, unknown>>, signingKey: string | null): Record<string, unknown> {
  if (!READ_PARAMS.some((name) => typeof params[name] === 'string')) return params;
  const decrypted: Record<string, unknown> = { ...params };
  for (const name of READ_PARAMS) {
    const value = params[name];
    if (typeof value === 'string') decrypted[name] = decryptStoredValue(value, signingKey);
  }
  return decrypted;
}

export async function readDatabaseModelList(dataSource: DataSource, timeoutMs: number, signingKey: string | null): Promise<DatabaseModelList> {
  const rows = await withDeadline('findProxyModels', timeoutMs, () =>
    dataSource.getRepository(ProxyModelRecord).find({
      select: { model_id: true, model_name: true, litellm_params: true, model_info: true },
      where: { blocked: false },
      order: { model_id: 'ASC' },
    }),
  );
  const models: ModelDeploymentConfig[] = [];
  for (const row of rows) {
    const entry = modelListEntryOf(row, signingKey);
    if (entry !== null) models.push(entry);
  }
  return { models, skipped: rows.length - models.length };
}
