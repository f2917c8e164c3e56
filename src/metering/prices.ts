/**
 * Per-token prices from `model_list`, in LiteLLM's field names, read from `litellm_params` first
 * and then `model_info` (LiteLLM's Deployment copies the former over the latter; as
 * `config/policy.ts` does for the two basic prices): `input_cost_per_token`,
 * `output_cost_per_token`, `cache_read_input_token_cost`, `cache_creation_input_token_cost`.
 * A requested model reached through `model_group_alias`, `model_alias_map` or a wildcard
 * deployment is priced by the deployment the router would pick (checks/model-router.ts).
 *
 * Deliberate difference: a cache read or write without its own price is charged the input price.
 * LiteLLM's proxy charges it 0 (BerriAI/litellm#16000), which undercharges cached prompts.
 * Not read: tiered prices above a token count, reasoning, audio and per-second prices, and the
 * 1-hour cache write price; the first deployment of a group prices the whole group.
 */
import { z } from 'zod';
import type { LiteLlmConfig, ModelDeploymentConfig } from '../config/litellm-config';
import { buildPolicy, withDatabaseModels, type Policy } from '../config/policy';
import { deploymentsFor } from '../checks/model-router';

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
  private readonly basePolicy: Policy;
  private policy: Policy;

  constructor(config: LiteLlmConfig) {
    this.configured = config.model_list ?? [];
    this.byName = pricesOf(this.configured);
    this.basePolicy = buildPolicy(config);
    this.policy = this.basePolicy;
  }

  /** The YAML's models first, then those LiteLLM keeps in its database (store/db-model-list.ts). */
  useDatabaseModels(models: readonly ModelDeploymentConfig[]): void {
    this.byName = pricesOf([...this.configured, ...models]);
    this.policy = withDatabaseModels(this.basePolicy, models);
  }

  /**
   * The price of the model the client asked for (a model_list name), else of the model the
   * provider reported (`gpt-4o-2024-08-06` also matches a deployment of `openai/gpt-4o-2024-08-06`).
   * Null when neither is priced: the request is recorded at zero cost and logged as unpriced.
   */
  priceOf(requestedModel: string | null, reportedModel: string | null): ModelPrice | null {
    for (const name of [requestedModel, reportedModel]) {
      if (name === null) continue;
      const price = this.byName.get(name) ?? this.routedPrice(name);
      if (price !== undefined) return price;
    }
    return null;
  }

  /** The price of the deployment the router serves `model` by: an alias's target, a wildcard deployment. */
  private routedPrice(model: string): ModelPrice | undefined {
    const routed = deploymentsFor(this.policy, model)[0];
    return routed === undefined ? undefined : this.byName.get(routed.deployment.modelName);
  }
}

function pricesOf(deployments: readonly ModelDeploymentConfig[]): Map<string, ModelPrice> {
  const byName = new Map<string, ModelPrice>();
  for (const deployment of deployments) {
    const info = fieldsOf(deployment.model_info);
    const params = fieldsOf(deployment.litellm_params);
    const input = params.input_cost_per_token ?? info.input_cost_per_token;
    const output = params.output_cost_per_token ?? info.output_cost_per_token;
    if (input === undefined && output === undefined) continue;
    const price: ModelPrice = {
      input: input ?? 0,
      output: output ?? 0,
      cacheRead: params.cache_read_input_token_cost ?? info.cache_read_input_token_cost ?? input ?? 0,
      cacheCreation: params.cache_creation_input_token_cost ?? info.cache_creation_input_token_cost ?? input ?? 0,
    };
    // The first deployment of a model group sets its price (LiteLLM prices the deployment that served).
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
