/** The labels of one child of a scraped metric (scraped-counter.ts, scraped-histogram.ts). */
export function labelRecord(labelNames: readonly string[], values: readonly string[]): Record<string, string> {
  // prom-client throws for a wrong count too; checked once, when the child is bound.
  if (values.length !== labelNames.length) {
    throw new Error(`expected ${labelNames.length} label values, got ${values.length}`);
  }
  const labels: Record<string, string> = {};
  values.forEach((value, i) => (labels[labelNames[i] as string] = value));
  return labels;
}
