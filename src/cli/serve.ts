import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { Gauge } from 'prom-client';
import {
  AuditCheckpointSchedule,
  CaError,
  CertificateAuthority,
  CrlSchedule,
  defaultCeremony,
  presignedExpiry,
  runCeremony,
} from '../ca/index.js';
import { type Config, loadConfig } from '../config.js';
import type { Services } from '../http/index.js';
import { checkReadiness, createAdminServer, createServer, Metrics } from '../http/index.js';
import { Repository } from '../repository/index.js';
import { type Change, ChangeFeed, StoreError } from '../store/index.js';
import { DEFAULT_TSA_POLICY, TimeStampAuthority } from '../tsa/index.js';
import { OcspResponder } from '../va/index.js';
import { parseArgs } from './args.js';
import type { Io } from './output.js';

export const SERVE_HELP = `kyso serve [--host H] [--port P]: the server (OCSP, CRLs, TSA, repository, API). On an empty data
  directory it first makes a demo CA, clearly marked as such; run \`kyso init\` first for a real one.`;

const VERSION: string = JSON.parse(
  readFileSync(new URL('../../package.json', import.meta.url), 'utf8'),
).version;

/** `kyso serve`: runs until SIGINT or SIGTERM, then finishes in-flight requests and closes cleanly. */
export async function serveCommand(args: string[], io: Io): Promise<number> {
  const { values } = parseArgs(
    args,
    { host: { type: 'string' }, port: { type: 'string' } },
    { min: 0, max: 0, usage: 'kyso serve [--host H] [--port P]' },
  );
  const env = { ...process.env };
  if (values.host) env.KYSO_HOST = values.host;
  if (values.port) env.KYSO_PORT = values.port;
  const config = loadConfig({ dataDir: values.data, env });
  const log = (msg: string) => io.err(`${new Date().toISOString()} ${msg}\n`);
  const server = await startServer(config, { log });
  log(`Kyso ${VERSION} listening on ${server.url} (public URL ${config.publicUrl}, data ${config.dataDir})`);
  if (server.adminUrl) log(`metrics on ${server.adminUrl}/metrics`);
  await new Promise<void>((resolve) => {
    const stop = (signal: string) => {
      log(`${signal}: finishing in-flight requests`);
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
  await server.stop();
  log('stopped');
  return 0;
}

export interface RunningServer {
  url: string;
  /** Where /metrics is served when it has its own address. */
  adminUrl?: string;
  authority: CertificateAuthority;
  stop(): Promise<void>;
}

/** Opens the data directory's CA, or makes a demo CA when it has none. */
async function openOrMakeDemo(config: Config, log: (msg: string) => void): Promise<CertificateAuthority> {
  try {
    return await CertificateAuthority.open(config);
  } catch (e) {
    if (!((e instanceof CaError || e instanceof StoreError) && e.code === 'not-initialized')) throw e;
  }
  log(
    `no CA in ${config.dataDir}: making a DEMO CA (not for real use; see docs/operator/ca.md for \`kyso init\`)`,
  );
  const demo = 'C=VN, O=Kyso Demo (không dùng thật)';
  await runCeremony(config, {
    ...defaultCeremony(),
    rootName: `${demo}, CN=Kyso Demo Root CA`,
    issuingName: `${demo}, CN=Kyso Demo Issuing CA`,
    ocspName: `${demo}, CN=Kyso Demo OCSP Responder`,
    tsaName: `${demo}, CN=Kyso Demo Time-Stamp Authority`,
    actor: 'serve:demo',
    demo: true,
  });
  return CertificateAuthority.open(config);
}

/**
 * Opens the CA (making a demo CA on an empty data directory), its OCSP responder, TSA, CRL
 * schedule and repository, and starts the web server. `stop` finishes in-flight requests first.
 */
export async function startServer(
  configured: Config,
  options: { log: (msg: string) => void; logger?: boolean; crlCheckEveryMs?: number },
): Promise<RunningServer> {
  const { log } = options;
  // The server's one thread never sleeps on another process's SQLite write lock: a busy write
  // fails at once, and is skipped (a stored OCSP answer) or retried on the next tick (a CRL).
  const config: Config =
    configured.database.kind === 'sqlite'
      ? { ...configured, database: { ...configured.database, busyTimeoutMs: 0 } }
      : configured;
  const authority = await openOrMakeDemo(config, log);
  // Changes from here on reach the services below, even those made while they load.
  const feedStart = await authority.store.changeFeed.latestId();
  if ((await authority.store.settings.get('ca.demo')) === 'true') {
    log('WARNING: this is a DEMO CA (CA thử nghiệm). Do not trust its certificates.');
  }
  const metrics = new Metrics();
  const ocsp = await OcspResponder.open(authority, {
    ...config.ocsp,
    onSigned: (seconds) => metrics.signing.observe({ service: 'ocsp' }, seconds),
  });
  const tsa = await TimeStampAuthority.open(authority, {
    ...config.tsa,
    policy: config.tsa.policy ?? DEFAULT_TSA_POLICY,
  });
  await Promise.all([ocsp.ready(), tsa?.ready()]);
  const schedule = new CrlSchedule(
    authority,
    {
      issued: (c) => log(`CRL ${c.number}${c.delta ? ' (delta)' : ''} of ${c.caId}: ${c.entries} entries`),
      failed: (caId, e) => log(`CRL of ${caId} failed: ${(e as Error).message}`),
      expiring: (i) =>
        log(
          `WARNING: the offline root's pre-signed ${i.kind === 'crl' ? `CRL ${i.what}` : `OCSP answer about ${i.what}`} of ${i.caId} ${i.nextUpdate ? `runs out at ${i.nextUpdate.toISOString()}` : 'is missing'}: renew it at the root ceremony (kyso root crl / kyso root ocsp, then kyso root import)`,
        ),
    },
    options.crlCheckEveryMs ?? config.crl.checkSeconds * 1000,
  );
  const checkpoints = new AuditCheckpointSchedule(
    authority,
    config.audit.checkpointDir,
    config.audit.checkpointIntervalMinutes * 60_000,
    { failed: (e) => log(`audit checkpoint failed: ${(e as Error).message}`) },
  );
  offlineRootGauge(metrics, authority);
  await schedule.runOnce();
  schedule.start();

  const services: Services = {
    authority,
    ocsp,
    tsa,
    repository: new Repository(authority),
    metrics,
    async ready() {
      const readiness = await checkReadiness({
        store: authority.store,
        ocspStoreFault: () => ocsp.storeFault,
        databaseDir: config.database.kind === 'sqlite' ? path.dirname(config.database.file) : undefined,
      });
      // A pre-signed root CRL or answer near its end is a warning, not a reason to stop serving.
      if (readiness.ok)
        readiness.checks.offlineRoot = await offlineRootCheck(authority, config).catch(
          (e) => (e as Error).message,
        );
      return readiness;
    },
  };
  const feed = await followChanges(config, services, schedule, feedStart, log);
  // This process's own changes are read back from the feed at once, not at the next poll.
  authority.onStatusChange(() => feed.wake());

  const app = await createServer(services, {
    logger: options.logger === false ? false : { level: process.env.KYSO_LOG_LEVEL ?? 'info' },
    logRequests: process.env.KYSO_LOG_REQUESTS === '1',
    version: VERSION,
    metrics: !config.http.admin,
  });
  const admin = config.http.admin && createAdminServer(services);
  await app.listen({ host: config.http.host, port: config.http.port });
  if (admin && config.http.admin) await admin.listen(config.http.admin);
  // Loading the audit key costs a key derivation: after the server answers, not before.
  checkpoints.start();
  return {
    url: listeningUrl(app, config.http.host),
    adminUrl: admin && config.http.admin ? listeningUrl(admin, config.http.admin.host) : undefined,
    authority,
    async stop() {
      await Promise.all([app.close(), admin?.close()]);
      await feed.stop();
      await schedule.stop();
      checkpoints.stop();
      await authority.close();
    },
  };
}

/** `ok`, or a warning naming the pre-signed root CRL or OCSP answer that runs out first. */
async function offlineRootCheck(authority: CertificateAuthority, config: Config): Promise<string> {
  const [first] = await presignedExpiry(authority);
  if (!first) return 'ok';
  const left = first.nextUpdate ? first.nextUpdate.getTime() - Date.now() : -1;
  if (left > config.offlineRoot.warnDays * 86_400_000) return 'ok';
  const what = first.kind === 'crl' ? `CRL ${first.what}` : `OCSP answer about ${first.what}`;
  if (left <= 0) return `warning: the pre-signed ${what} of ${first.caId} is missing or has run out`;
  return `warning: the pre-signed ${what} of ${first.caId} runs out at ${first.nextUpdate!.toISOString()}`;
}

/** kyso_offline_root_presigned_expiry_seconds: seconds until each pre-signed root CRL and answer runs out. */
function offlineRootGauge(metrics: Metrics, authority: CertificateAuthority): void {
  new Gauge({
    name: 'kyso_offline_root_presigned_expiry_seconds',
    help: "Seconds until the offline root's pre-signed CRL or OCSP answer runs out (negative: it has)",
    labelNames: ['ca', 'kind', 'what'] as const,
    registers: [metrics.registry],
    async collect() {
      this.reset();
      for (const i of await presignedExpiry(authority).catch(() => []))
        this.set(
          { ca: i.caId, kind: i.kind, what: i.what },
          i.nextUpdate ? Math.floor((i.nextUpdate.getTime() - Date.now()) / 1000) : -1,
        );
    },
  });
}

function listeningUrl(app: FastifyInstance, host: string): string {
  const address = app.server.address();
  return `http://${host}:${typeof address === 'object' && address ? address.port : 0}`;
}

// A PostgreSQL feed is woken by NOTIFY and read every few seconds as a safety net; SQLite has
// no NOTIFY, and other processes (the command line) write to the same file.
const FEED_POLL_MS = { postgres: 5000, sqlite: 1000 };

/**
 * Keeps this node in step with every other writer of the database: a status change drops the
 * cached OCSP answers and brings the next delta CRL forward; a new CA or service certificate
 * reloads the OCSP responder and the TSA.
 */
async function followChanges(
  config: Config,
  services: Services,
  schedule: CrlSchedule,
  after: number,
  log: (msg: string) => void,
): Promise<ChangeFeed> {
  const { authority, ocsp } = services;
  let reloading: Promise<void> = Promise.resolve();
  const reload = (changes: Change[]) => {
    const tsaChanged = changes.some((c) => c.kind === 'service' && c.name === 'service.tsa');
    reloading = reloading
      .then(async () => {
        await ocsp.reload();
        if (tsaChanged) {
          const tsa = await TimeStampAuthority.open(authority, {
            ...config.tsa,
            policy: config.tsa.policy ?? DEFAULT_TSA_POLICY,
          });
          await tsa?.ready();
          services.tsa = tsa;
        }
        log('reloaded the CA and service certificates');
      })
      .catch((e) => log(`reloading the CA and service certificates failed: ${(e as Error).message}`));
  };
  return ChangeFeed.start(
    authority.store.changeFeed,
    config.database,
    {
      changed(changes) {
        for (const c of changes) {
          if (c.kind !== 'status') continue;
          ocsp.forget(c.serial);
          schedule.soon(c.caId);
        }
        if (changes.some((c) => c.kind !== 'status')) reload(changes);
      },
      failed: (e) => log(`following the change feed failed: ${(e as Error).message}`),
      recovered: () => log('following the change feed again'),
    },
    { pollMs: FEED_POLL_MS[config.database.kind], after },
  );
}
