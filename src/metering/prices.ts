/**
 * Per-token prices from `model_list`, in LiteLLM's field names, read from `model_info` first and
 * then `litellm_params` (as `config/policy.ts` does for the two basic prices):
 * `input_cost_per_token`, `output_cost_per_token`, `cache_read_input_token_cost`,
 * `cache_creation_input_token_cost`. LiteLLM prices a cache read or write at the input price
 * when no cache price is given; so does Tollgate.
 */
import { z } from 'zod';
import type { LiteLlmConfig, ModelDeploymentConfig } from '../config/litellm-config';

export interface ModelPrice {
  readonly input: number;
  readonly output: number;
  readonly cacheRead: number;
  readonly cacheCreation: number;
}

const priceFields = z.looseObject({
  input_cost_per_token: z.number().nonnegative().optional(),
  output_cost_per_token: z.number().nonnegative().optional(),
  cache_read_input_token_cost: z.number().nonnegative().optional(),
  cache_creation_input_token_cost: z.number().nonnegative().optional(),
});
type PriceFields = z.infer<typeof priceFields>;

function fieldsOf(value: unknown): PriceFields {
  const parsed = priceFields.safeParse(value ?? {});
  return parsed.success ? parsed.data : {};
}

export class PriceTable {
  private byName = new Map<string, ModelPrice>();
  private readonly configured: readonly ModelDeploymentConfig[];

  constructor(config: LiteLlmConfig) {
    this.configured = config.model_list ?? [];
    this.byName = pricesOf(this.configured);
  }

  /** The YAML's models first, then those LiteLLM keeps in its database (store/db-model-list.ts). */
  useDatabaseModels(models: readonly ModelDeploymentConfig[]): void {
    this.byName = pricesOf([...this.configured, ...models]);
  }

  /**
   * The price of the model the client asked for (a model_list name), else of the model the
   * provider reported (`gpt-4o-2024-08-06` also matches a deployment of `openai/gpt-4o-2024-08-06`).
   * Null when neither is priced: the request is recorded at zero cost and logged as unpriced.
   */
  priceOf(requestedModel: string | null, reportedModel: string | null): ModelPrice | null {
    for (const name of [requestedModel, reportedModel]) {
      if (name === null) continue;
      const price = this.byName.get(name);
      if (price !== undefined) return price;
    }
    return null;
  }
}

function pricesOf(deployments: readonly ModelDeploymentConfig[]): Map<string, ModelPrice> {
  const byName = new Map<string, ModelPrice>();
  for (const deployment of deployments) {
    const info = fieldsOf(deployment.model_info);
    const params = fieldsOf(deployment.litellm_params);
    const input = info.input_cost_per_token ?? params.input_cost_per_token;
    const output = info.output_cost_per_token ?? params.output_cost_per_token;
    if (input === undefined && output === undefined) continue;
    const price: ModelPrice = {
      input: input ?? 0,
      output: output ?? 0,
      cacheRead: info.cache_read_input_token_cost ?? params.cache_read_input_token_cost ?? input ?? 0,
      cacheCreation: info.cache_creation_input_token_cost ?? params.cache_creation_input_token_cost ?? input ?? 0,
    };
    // The first deployment of a model group sets its price, as LiteLLM's cost map lookup by group does.
    if (!byName.has(deployment.model_name)) byName.set(deployment.model_name, price);
    const underlying = deployment.litellm_params?.model;
    if (underlying !== undefined) {
      if (!byName.has(underlying)) byName.set(underlying, price);
      const bare = underlying.slice(underlying.indexOf('/') + 1);
      if (!byName.has(bare)) byName.set(bare, price);
    }
  }
  return byName;
}
