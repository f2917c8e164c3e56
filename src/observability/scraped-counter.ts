/**
 * A Prometheus counter for the request path: an increment is one addition on a kept handle, and
 * the totals are copied into prom-client only when it is scraped. prom-client's own `inc` checks
 * and hashes its labels on every call, which at tens of thousands of Checks a second and several
 * increments per Check was a measurable part of what a warm Check cost.
 */
import { Counter, type Registry } from 'prom-client';
import { labelRecord } from './label-record';

export interface CounterHandle {
  inc(): void;
}

interface Child {
  readonly labels: Record<string, string>;
  count: number;
}

export class ScrapedCounter {
  private readonly children = new Map<string, Child & CounterHandle>();
  private readonly labelNames: readonly string[];

  constructor(
    config: { readonly name: string; readonly help: string; readonly labelNames: readonly string[] },
    registers: Registry[],
  ) {
    const children = this.children;
    const labelNames = config.labelNames;
    this.labelNames = labelNames;
    new Counter({
      name: config.name,
      help: config.help,
      labelNames,
      registers,
      collect() {
        this.reset();
        for (const child of children.values()) {
          if (labelNames.length === 0) this.inc(child.count);
          else this.inc(child.labels, child.count);
        }
      },
    });
  }

  /** The handle for one combination of label values (label sets are small and fixed: keep it). */
  child(...values: string[]): CounterHandle {
    const key = values.join('\u0000');
    let child = this.children.get(key);
    if (child === undefined) {
      const labels = labelRecord(this.labelNames, values);
      const created: Child & CounterHandle = {
        labels,
        count: 0,
        inc() {
          created.count += 1;
        },
      };
      child = created;
      this.children.set(key, child);
    }
    return child;
  }
}
