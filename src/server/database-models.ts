/**
 * Keeps the models LiteLLM stores in its database (`store_model_in_db`) in the policy every Check
 * decides by: read once before the replica serves, then every `refreshMs` in the background.
 *
 * The first read must succeed (a replica that served without them would refuse the callers whose
 * access comes from their access groups); a later failed read keeps the last list and says so.
 * A list is applied only when it changed, so the caches built per policy stay warm.
 */
import type { ModelDeploymentConfig } from '../config/litellm-config';
import type { DatabaseModelList } from '../store/db-model-list';
import type { Logger } from '../observability/logger';

export interface DatabaseModelRefreshDeps {
  readonly read: () => Promise<DatabaseModelList>;
  readonly apply: (models: readonly ModelDeploymentConfig[]) => void;
  readonly refreshMs: number;
  readonly logger: Logger;
}

export class DatabaseModelRefresh {
  private timer: NodeJS.Timeout | null = null;
  private applied: string | null = null;
  private stopped = false;
  private failing = false;

  constructor(private readonly deps: DatabaseModelRefreshDeps) {}

  /** Reads and applies the list; rejects when the first read fails. */
  async start(): Promise<void> {
    await this.refresh();
    this.schedule();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
  }

  private schedule(): void {
    if (this.stopped) return;
    // One read at a time: the next is planned when this one is over, however long it took.
    this.timer = setTimeout(() => {
      this.refresh()
        .then(() => {
          if (this.failing) this.deps.logger.info('model list from the database: read again');
          this.failing = false;
        })
        .catch((error: unknown) => {
          if (!this.failing) {
            this.deps.logger.warn({ err: error instanceof Error ? error.message : String(error) }, 'model list from the database: read failed; the last one stays');
          }
          this.failing = true;
        })
        .finally(() => this.schedule());
    }, this.deps.refreshMs);
    this.timer.unref();
  }

  private async refresh(): Promise<void> {
    const { models, skipped } = await this.deps.read();
    const fingerprint = JSON.stringify(models);
    if (fingerprint === this.applied) return;
    this.applied = fingerprint;
    this.deps.apply(models);
    this.deps.logger.info({ models: models.length, skipped }, 'model list from the database: applied');
    if (skipped > 0) this.deps.logger.warn({ skipped }, 'model list from the database: rows that are not model_list entries were left out');
  }
}
