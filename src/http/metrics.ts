import { Counter, collectDefaultMetrics, Histogram, Registry } from 'prom-client';

type CacheResult = 'hit' | 'miss' | 'none';

/** The Prometheus metrics Kyso's server exposes at /metrics. */
export class Metrics {
  readonly registry = new Registry();
  readonly requests = new Counter({
    name: 'kyso_http_requests_total',
    help: 'HTTP requests by service and status code',
    labelNames: ['service', 'code'] as const,
    registers: [this.registry],
  });
  readonly latency = new Histogram({
    name: 'kyso_http_request_duration_seconds',
    help: 'HTTP request latency by service',
    labelNames: ['service'] as const,
    buckets: [0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 5],
    registers: [this.registry],
  });
  // Counted in plain numbers and handed over when scraped: a labelled inc is a tenth of an OCSP hit's cost.
  readonly #ocspAnswers: Record<CacheResult, number> = { hit: 0, miss: 0, none: 0 };
  readonly ocspCache = new Counter({
    name: 'kyso_ocsp_cache_total',
    help: 'OCSP answers by cache result: hit (served pre-signed), miss (signed and cached), none (nonce or several certificates)',
    labelNames: ['result'] as const,
    registers: [this.registry],
    collect: () => this.#flushOcspAnswers(),
  });
  readonly signing = new Histogram({
    name: 'kyso_signing_duration_seconds',
    help: 'Time to produce a signed answer, by service',
    labelNames: ['service'] as const,
    buckets: [0.0001, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.05, 0.1],
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'kyso_' });
  }

  /** Counts one answered HTTP request of a service and its latency. */
  request(service: string, status: number, seconds: number): void {
    this.requests.inc({ service, code: String(status) });
    this.latency.observe({ service }, seconds);
  }

  /** Counts one OCSP answer by where it came from. */
  ocspAnswer(result: CacheResult): void {
    this.#ocspAnswers[result]++;
  }

  #flushOcspAnswers(): void {
    for (const result of ['hit', 'miss', 'none'] as const) {
      const n = this.#ocspAnswers[result];
      this.#ocspAnswers[result] = 0;
      if (n > 0) this.ocspCache.inc({ result }, n);
    }
  }
}
