// A stage's settings (cdk.json's `stages`), the functions and their zips,
// and the table definitions the Rust repository writes.
import * as fs from 'fs';
import * as path from 'path';

export type Arch = 'arm64' | 'x86_64';
export type FunctionName = 'tiers' | 'assignments' | 'overrides' | 'users' | 'events' | 'prices' | 'groups' | 'check' | 'notifier';
export const FUNCTIONS: FunctionName[] = ['tiers', 'assignments', 'overrides', 'users', 'events', 'prices', 'groups', 'check', 'notifier'];

/** Per-stage settings, from the `stages` context in cdk.json. */
export interface StageSettings {
  jwtIssuer: string;
  jwtAudience: string;
  /** Defaults to `<jwtIssuer>/.well-known/jwks.json` (where Cognito publishes it). */
  jwksUrl?: string;
  adminOrigin: string;
  adminClaim: string;
  adminRole: string;
  throttleRate: number;
  throttleBurst: number;
  /** When set, warnings and blocks are also e-mailed there (an SNS subscription). */
  notifyEmail?: string;
  /** The chat app's identity provider, for end users' `GET /api/quota/me`. */
  userJwtIssuer?: string;
  userJwtAudience?: string;
  /** The claims holding an end user's roles and email (defaults: `cognito:groups`, `email`). */
  userRolesClaim?: string;
  userEmailClaim?: string;
  /** The chat UI's origins, allowed by CORS so that its pages can call `GET /api/quota/me`. */
  userOrigins?: string[];
  /** The admin console's sign-in: a Cognito hosted-UI domain (https://<prefix>.auth.<region>.amazoncognito.com)... */
  consoleAuthDomain?: string;
  /** ...or any OIDC provider's authorization and token endpoints. */
  consoleAuthorizeUrl?: string;
  consoleTokenUrl?: string;
  /** The console's (public) app client; defaults to jwtAudience, the ID token's audience the admin API checks. */
  consoleClientId?: string;
  consoleScope?: string;
  /**
   * How far the shared keys spread (docs/scale.md): version copies, leaderboard
   * shards per period, group usage shards, each with a `...Previous` set only
   * while a change rolls out. Unset ones take the shipped defaults (sized for
   * 100,000 checks and records a second); ranges in shared/schema/fanout.json.
   */
  fanout?: Partial<Record<FanoutKey, number>>;
}

type FanoutKey = 'versionCopies' | 'versionCopiesPrevious' | 'rankShards' | 'rankShardsPrevious' | 'groupUsageShards' | 'groupUsageShardsPrevious'
  | 'eventPartitions' | 'eventPartitionsPrevious';
interface FanoutSetting { key: FanoutKey; env: string; previousKey: FanoutKey; previousEnv: string; default: number; min: number; max: number; why: string }

/** shared/schema/fanout.json, written from the Rust settings (a Rust test keeps it current). */
export function fanoutSettings(): FanoutSetting[] {
  const file = path.join(__dirname, '..', '..', '..', 'shared', 'schema', 'fanout.json');
  return (JSON.parse(fs.readFileSync(file, 'utf8')) as { settings: FanoutSetting[] }).settings;
}

/**
 * The functions' fan-out environment for a stage, refused at synth when a
 * count is not a whole number within its range (the functions would refuse
 * to start) or names a setting that does not exist.
 */
export function fanoutEnvironment(s: StageSettings, stage: string): Record<string, string> {
  const settings = fanoutSettings();
  const known = new Set(settings.flatMap((f) => [f.key, f.previousKey]));
  for (const key of Object.keys(s.fanout ?? {})) {
    if (!known.has(key as FanoutKey)) throw new Error(`stage "${stage}": fanout.${key} is not a setting (${[...known].join(', ')})`);
  }
  const env: Record<string, string> = {};
  for (const f of settings) {
    for (const [key, name, fallback] of [[f.key, f.env, f.default], [f.previousKey, f.previousEnv, undefined]] as const) {
      const value = s.fanout?.[key] ?? fallback;
      if (value === undefined) continue;
      if (!Number.isInteger(value) || value < f.min || value > f.max) {
        throw new Error(`stage "${stage}": fanout.${key} is ${value}; expected ${f.min} to ${f.max} (${f.why})`);
      }
      env[name] = String(value);
    }
  }
  return env;
}

export function stageSettings(stages: Record<string, StageSettings> | undefined, stage: string): StageSettings {
  const s = stages?.[stage];
  if (!s) {
    throw new Error(`no settings for stage "${stage}" in the "stages" context (cdk.json)`);
  }
  for (const key of ['jwtIssuer', 'jwtAudience', 'adminOrigin', 'adminClaim', 'adminRole'] as const) {
    if (!s[key]) throw new Error(`stage "${stage}" lacks ${key}`);
  }
  fanoutEnvironment(s, stage);
  return s;
}

/**
 * Where `make build ARCH=<arch>` leaves the zips: the architecture is part of
 * the path, so x86_64 zips can never be deployed as arm64 functions (or the
 * reverse). Throws, naming the command to run, if any zip is missing.
 */
export function lambdaDirFor(arch: string, targetDir: string): string {
  if (arch !== 'arm64' && arch !== 'x86_64') {
    throw new Error(`arch must be arm64 or x86_64, not "${arch}"`);
  }
  const dir = path.join(targetDir, `lambda-${arch}`);
  const missing = FUNCTIONS.filter((fn) => !fs.existsSync(path.join(dir, fn, 'bootstrap.zip')));
  if (missing.length > 0) {
    throw new Error(`no ${arch} build of ${missing.join(', ')} in ${dir}: run \`make build ARCH=${arch}\` first`);
  }
  return dir;
}

interface IndexDef {
  name: string; partitionKey: string; sortKey: string; sortKeyType: 'S' | 'N'; projection: 'ALL' | 'INCLUDE'; nonKeyAttributes: string[];
}
interface TableDef { logicalName: string; partitionKey: string; sortKey: string; ttlAttribute: string; indexes: IndexDef[] }

/** shared/schema/tables.json, written from the Rust definitions (a Rust test keeps it current). */
export function tableDefinitions(): TableDef[] {
  const file = path.join(__dirname, '..', '..', '..', 'shared', 'schema', 'tables.json');
  return JSON.parse(fs.readFileSync(file, 'utf8')) as TableDef[];
}
