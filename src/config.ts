import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { KysoError } from './errors.js';

/**
 * All settings in one place. Sources, strongest first: environment variables, then
 * `<data>/kyso.json` (written by `kyso init`), then defaults. Secrets (passphrases, PINs)
 * come only from the environment or a file and are read when first needed.
 */

/** A setting that is missing or wrong. */
export class ConfigError extends KysoError<'bad-config'> {
  override readonly name = 'ConfigError';

  constructor(message: string) {
    super('bad-config', message);
  }
}

/** A secret read on demand from an environment variable or a file, never stored in the database. */
export interface Secret {
  readonly source: string;
  /** The file it is read from, when it comes from one. */
  readonly file?: string;
  read(): string;
}

const profileOverride = z
  .object({
    maxValidityDays: z.number().int().positive().optional(),
    maxRenewalDays: z.number().int().positive().optional(),
    defaultValidityDays: z.number().int().positive().optional(),
    keySpecs: z.array(z.enum(['ec-p256', 'ec-p384', 'rsa-2048', 'rsa-3072', 'rsa-4096'])).optional(),
    policies: z.array(z.string().regex(/^\d+(\.\d+)+$/)).optional(),
    cps: z.string().url().optional(),
  })
  .strict();

const fileSchema = z
  .object({
    publicUrl: z.string().url().optional(),
    keys: z
      .discriminatedUnion('backend', [
        z.object({ backend: z.literal('soft') }).strict(),
        z
          .object({
            backend: z.literal('pkcs11'),
            module: z.string().min(1),
            tokenLabel: z.string().min(1),
            poolSize: z.number().int().min(1).max(64).optional(),
          })
          .strict(),
      ])
      .optional(),
    crl: z
      .object({
        validityHours: z.number().positive().optional(),
        deltaValidityHours: z.number().positive().optional(),
        fullIntervalHours: z.number().positive().optional(),
        deltaIntervalMinutes: z.number().positive().optional(),
        /** A full CRL this long after a revocation (0: only on the interval). */
        fullAfterRevocationSeconds: z.number().int().min(0).max(60).optional(),
        checkSeconds: z.number().positive().max(3600).optional(),
      })
      .strict()
      .optional(),
    profiles: z.record(z.string(), profileOverride).optional(),
    ocsp: z
      .object({
        validityHours: z
          .number()
          .positive()
          .max(24 * 7)
          .optional(),
        maxCached: z.number().int().positive().optional(),
      })
      .strict()
      .optional(),
    tsa: z
      .object({
        policy: z
          .string()
          .regex(/^\d+(\.\d+)+$/)
          .optional(),
        acceptedPolicies: z.array(z.string().regex(/^\d+(\.\d+)+$/)).optional(),
        accuracySeconds: z.number().int().positive().max(60).optional(),
      })
      .strict()
      .optional(),
    offlineRoot: z
      .object({
        /** How long the root's pre-signed CRL and OCSP answers are valid. */
        presignedDays: z.number().int().positive().max(1096).optional(),
        /** The server warns this many days before they run out. */
        warnDays: z.number().int().positive().optional(),
      })
      .strict()
      .optional(),
    audit: z
      .object({
        /** Where the server writes signed audit checkpoints (relative to the data directory). */
        checkpointDir: z.string().min(1).optional(),
        /** Minutes between checkpoints (0: none). */
        checkpointIntervalMinutes: z.number().min(0).optional(),
      })
      .strict()
      .optional(),
    trust: z
      .object({
        /** PEM files of roots trusted to verify signatures besides Kyso's own (e.g. the national root). */
        anchors: z.array(z.string().min(1)).max(100).optional(),
      })
      .strict()
      .optional(),
  })
  .strict();

export type ConfigFile = z.infer<typeof fileSchema>;
export type ProfileOverride = z.infer<typeof profileOverride>;

export type DatabaseConfig =
  /** busyTimeoutMs: how long a write waits for another process's lock, blocking the thread (default 5 s). */
  { kind: 'sqlite'; file: string; busyTimeoutMs?: number } | { kind: 'postgres'; url: string };

export type KeysConfig =
  | { backend: 'soft'; dir: string; passphrase: Secret }
  | { backend: 'pkcs11'; module: string; tokenLabel: string; poolSize: number; pin: Secret };

export interface Config {
  dataDir: string;
  configFile: string;
  database: DatabaseConfig;
  publicUrl: string;
  /** `admin`: a separate address for /metrics, when set (KYSO_ADMIN_HOST, KYSO_ADMIN_PORT). */
  http: { host: string; port: number; admin?: { host: string; port: number } };
  keys: KeysConfig;
  crl: {
    validityHours: number;
    deltaValidityHours: number;
    fullIntervalHours: number;
    deltaIntervalMinutes: number;
    fullAfterRevocationSeconds: number;
    /** How often `kyso serve` checks which CRLs are due. */
    checkSeconds: number;
  };
  offlineRoot: { presignedDays: number; warnDays: number };
  audit: { checkpointDir: string; checkpointIntervalMinutes: number };
  profiles: Record<string, ProfileOverride>;
  ocsp: { validityHours: number; maxCached: number };
  /** Policy undefined: the TSA's own default. */
  tsa: { policy?: string; acceptedPolicies: string[]; accuracySeconds: number };
  /** PEM files of other roots signature verification trusts, besides Kyso's own roots. */
  trustAnchors: string[];
}

export const DEFAULT_PKCS11_MODULE = '/usr/lib/softhsm/libsofthsm2.so';

/** Where the soft-key passphrase lives when neither KYSO_KEY_PASSPHRASE nor KYSO_KEY_PASSPHRASE_FILE is set. */
export function defaultPassphraseFile(dataDir: string): string {
  return path.join(dataDir, 'secrets', 'key-passphrase');
}

function secretFrom(env: NodeJS.ProcessEnv, name: string, fallbackFile?: string): Secret {
  const direct = env[name];
  const file = env[`${name}_FILE`] ?? fallbackFile;
  if (direct !== undefined) return { source: `environment variable ${name}`, read: () => direct };
  if (file !== undefined) {
    return {
      source: `file ${file}`,
      file,
      read: () => {
        try {
          return readFileSync(file, 'utf8').replace(/\r?\n$/, '');
        } catch {
          throw new ConfigError(`cannot read the secret in ${file} (set ${name} or ${name}_FILE)`);
        }
      },
    };
  }
  return {
    source: 'nowhere',
    read: () => {
      throw new ConfigError(`set ${name} or ${name}_FILE`);
    },
  };
}

function intFrom(value: string | undefined, name: string, fallback: number): number {
  if (value === undefined || value === '') return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535)
    throw new ConfigError(`${name} must be a port number, got "${value}"`);
  return n;
}

/** Reads the settings file of a data directory, or nothing if it has none. */
export function readConfigFile(file: string): ConfigFile {
  if (!existsSync(file)) return {};
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new ConfigError(`${file} is not valid JSON: ${(e as Error).message}`);
  }
  const parsed = fileSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new ConfigError(`${file}: ${issue.path.join('.') || '(root)'}: ${issue.message}`);
  }
  return parsed.data;
}

/** Builds and validates the configuration; `dataDir` (from --data) wins over KYSO_DATA. */
export function loadConfig(options: { dataDir?: string; env?: NodeJS.ProcessEnv } = {}): Config {
  const env = options.env ?? process.env;
  const dataDir = path.resolve(options.dataDir ?? env.KYSO_DATA ?? './kyso-data');
  const configFile = path.join(dataDir, 'kyso.json');
  const file = readConfigFile(configFile);

  const dbUrl = env.KYSO_DATABASE_URL;
  let database: DatabaseConfig;
  if (!dbUrl) database = { kind: 'sqlite', file: path.join(dataDir, 'kyso.db') };
  else if (/^postgres(ql)?:\/\//.test(dbUrl)) database = { kind: 'postgres', url: dbUrl };
  else if (dbUrl.startsWith('sqlite:')) database = { kind: 'sqlite', file: path.resolve(dbUrl.slice(7)) };
  else throw new ConfigError('KYSO_DATABASE_URL must start with postgres:// or sqlite:');

  const host = env.KYSO_HOST || '127.0.0.1';
  const port = intFrom(env.KYSO_PORT, 'KYSO_PORT', 8080);
  const admin =
    env.KYSO_ADMIN_PORT || env.KYSO_ADMIN_HOST
      ? {
          host: env.KYSO_ADMIN_HOST || '127.0.0.1',
          port: intFrom(env.KYSO_ADMIN_PORT, 'KYSO_ADMIN_PORT', 9090),
        }
      : undefined;
  const publicUrl = (env.KYSO_PUBLIC_URL || file.publicUrl || `http://${host}:${port}`).replace(/\/+$/, '');
  if (!z.string().url().safeParse(publicUrl).success || !/^https?:\/\//.test(publicUrl)) {
    throw new ConfigError(`KYSO_PUBLIC_URL must be an http(s) URL, got "${publicUrl}"`);
  }

  const backend = env.KYSO_KEY_BACKEND ?? file.keys?.backend ?? 'soft';
  let keys: KeysConfig;
  if (backend === 'soft') {
    keys = {
      backend: 'soft',
      dir: path.join(dataDir, 'keys'),
      passphrase: secretFrom(env, 'KYSO_KEY_PASSPHRASE', defaultPassphraseFile(dataDir)),
    };
  } else if (backend === 'pkcs11') {
    const fromFile = file.keys?.backend === 'pkcs11' ? file.keys : undefined;
    const tokenLabel = env.KYSO_PKCS11_TOKEN ?? fromFile?.tokenLabel;
    if (!tokenLabel) throw new ConfigError('the pkcs11 key backend needs a token label (KYSO_PKCS11_TOKEN)');
    keys = {
      backend: 'pkcs11',
      module: env.KYSO_PKCS11_MODULE ?? fromFile?.module ?? DEFAULT_PKCS11_MODULE,
      tokenLabel,
      poolSize: fromFile?.poolSize ?? 4,
      pin: secretFrom(env, 'KYSO_PKCS11_PIN'),
    };
  } else {
    throw new ConfigError(`KYSO_KEY_BACKEND must be soft or pkcs11, got "${backend}"`);
  }

  return {
    dataDir,
    configFile,
    database,
    publicUrl,
    http: { host, port, admin },
    keys,
    crl: {
      validityHours: file.crl?.validityHours ?? 168,
      deltaValidityHours: file.crl?.deltaValidityHours ?? 24,
      fullIntervalHours: file.crl?.fullIntervalHours ?? 24,
      deltaIntervalMinutes: file.crl?.deltaIntervalMinutes ?? 60,
      fullAfterRevocationSeconds: file.crl?.fullAfterRevocationSeconds ?? 30,
      checkSeconds: file.crl?.checkSeconds ?? 60,
    },
    offlineRoot: {
      presignedDays: file.offlineRoot?.presignedDays ?? 365,
      warnDays: file.offlineRoot?.warnDays ?? 30,
    },
    audit: {
      checkpointDir: path.resolve(dataDir, file.audit?.checkpointDir ?? 'audit-checkpoints'),
      checkpointIntervalMinutes: file.audit?.checkpointIntervalMinutes ?? 60,
    },
    profiles: file.profiles ?? {},
    ocsp: { validityHours: file.ocsp?.validityHours ?? 24, maxCached: file.ocsp?.maxCached ?? 200_000 },
    tsa: {
      policy: file.tsa?.policy,
      acceptedPolicies: file.tsa?.acceptedPolicies ?? [],
      accuracySeconds: file.tsa?.accuracySeconds ?? 1,
    },
    // KYSO_TRUST_ANCHORS (paths separated by the platform's delimiter) adds to the file's list.
    trustAnchors: [
      ...(file.trust?.anchors ?? []),
      ...(env.KYSO_TRUST_ANCHORS ?? '').split(path.delimiter).filter(Boolean),
    ].map((f) => path.resolve(dataDir, f)),
  };
}
