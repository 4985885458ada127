/**
 * A few Prometheus counters for this process, rendered as text.
 */
export class Metrics {
  private readonly queries = new Map<string, number>();
  private readonly errors = new Map<string, number>();

  countQuery(status: string): void {
    this.queries.set(status, (this.queries.get(status) ?? 0) + 1);
  }

  countError(code: string): void {
    this.errors.set(code, (this.errors.get(code) ?? 0) + 1);
  }

  render(): string {
    const lines = [
      '# HELP airlock_queries_submitted_total Queries submitted, by status at response time.',
      '# TYPE airlock_queries_submitted_total counter',
      ...[...this.queries].map(([s, n]) => `airlock_queries_submitted_total{status="${s}"} ${n}`),
      '# HELP airlock_api_errors_total API errors, by code.',
      '# TYPE airlock_api_errors_total counter',
      ...[...this.errors].map(([c, n]) => `airlock_api_errors_total{code="${c}"} ${n}`),
    ];
    return `${lines.join('\n')}\n`;
  }
}
