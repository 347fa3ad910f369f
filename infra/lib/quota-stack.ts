// The quota service's stack: the two tables (from the same definitions the
// Rust repository uses), one Lambda per function crate, the HTTP API with a
// JWT authorizer for admins and IAM auth for the chat backend, least-
// privilege IAM, and the alarms ops expect.
import * as fs from 'fs';
import * as path from 'path';
import { CfnOutput, Duration, RemovalPolicy, Stack, StackProps } from 'aws-cdk-lib';
import * as apigw from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpIamAuthorizer, HttpJwtAuthorizer } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import { DynamoEventSource, SqsDlq } from 'aws-cdk-lib/aws-lambda-event-sources';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { AdminConsole, consoleAuth } from './console';

export type Arch = 'arm64' | 'x86_64';
export type FunctionName = 'tiers' | 'assignments' | 'overrides' | 'users' | 'events' | 'check' | 'notifier';
export const FUNCTIONS: FunctionName[] = ['tiers', 'assignments', 'overrides', 'users', 'events', 'check', 'notifier'];

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
}

export function stageSettings(stages: Record<string, StageSettings> | undefined, stage: string): StageSettings {
  const s = stages?.[stage];
  if (!s) {
    throw new Error(`no settings for stage "${stage}" in the "stages" context (cdk.json)`);
  }
  for (const key of ['jwtIssuer', 'jwtAudience', 'adminOrigin', 'adminClaim', 'adminRole'] as const) {
    if (!s[key]) throw new Error(`stage "${stage}" lacks ${key}`);
  }
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

interface IndexDef { name: string; partitionKey: string; sortKey: string; sortKeyType: 'S' | 'N'; projection: string }
interface TableDef { logicalName: string; partitionKey: string; sortKey: string; ttlAttribute: string; indexes: IndexDef[] }

/** shared/schema/tables.json, written from the Rust definitions (a Rust test keeps it current). */
export function tableDefinitions(): TableDef[] {
  const file = path.join(__dirname, '..', '..', '..', 'shared', 'schema', 'tables.json');
  return JSON.parse(fs.readFileSync(file, 'utf8')) as TableDef[];
}

export interface QuotaStackProps extends StackProps {
  stage: string;
  arch: Arch;
  settings: StageSettings;
  /** Where `make build` leaves `<function>/bootstrap.zip`. */
  lambdaDir: string;
  /** console/ with its libraries (`make console`): see consoleDirFor. */
  consoleDir: string;
  /** Replaces the built zips (tests synthesize without compiling Rust). */
  code?: (fn: FunctionName) => lambda.Code;
}

/** Memory and timeout, set on purpose: the check is the hot path (more
 * memory is more CPU, so lower latency; its SDK gives up after 3 s); admin
 * calls are rare and light. The bench measured ~12 MB peak RSS. */
const SIZING: Record<FunctionName, { memory: number; timeout: number }> = {
  tiers: { memory: 128, timeout: 10 },
  assignments: { memory: 128, timeout: 10 },
  overrides: { memory: 128, timeout: 10 },
  users: { memory: 128, timeout: 10 },
  events: { memory: 128, timeout: 10 },
  notifier: { memory: 128, timeout: 30 },
  check: { memory: 256, timeout: 5 },
};

/** The partition keys (table or index) each function may touch; IAM enforces
 * them with dynamodb:LeadingKeys, so e.g. the check cannot write a tier. */
const QUOTA_READ_KEYS: Record<FunctionName, string[]> = {
  tiers: ['CONFIG', 'VERSION#*'],
  assignments: ['CONFIG', 'VERSION#*', 'ASSIGNMENT#*', 'USER#*', 'ASSIGNMENTS', 'TIER#*'],
  // The canonical item, the user's copy, and the two listing index partitions.
  overrides: ['OVERRIDE#*', 'USER#*', 'OVERRIDES', 'OVERRIDES#*'],
  users: ['CONFIG', 'VERSION#*', 'USER#*'],
  // The events function reads only the events table.
  events: [],
  // The notifier reads the events table's stream, no table.
  notifier: [],
  check: ['CONFIG', 'VERSION#*', 'USER#*'],
};
const QUOTA_WRITE_KEYS: Record<FunctionName, string[]> = {
  tiers: ['CONFIG', 'VERSION#*'],
  assignments: ['CONFIG', 'VERSION#*', 'ASSIGNMENT#*', 'USER#*'],
  overrides: ['OVERRIDE#*', 'USER#*'],
  users: [],
  events: [],
  notifier: [],
  check: ['USER#*'],
};

export class QuotaStack extends Stack {
  readonly tables: Record<string, dynamodb.Table> = {};
  readonly functions = {} as Record<FunctionName, lambda.Function>;
  readonly api: apigw.HttpApi;
  readonly console: AdminConsole;

  constructor(scope: Construct, id: string, props: QuotaStackProps) {
    super(scope, id, props);
    const { stage, settings } = props;
    const prod = stage === 'prod';
    const name = (s: string) => `quota-${stage}-${s}`;
    const removal = prod ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY;

    for (const def of tableDefinitions()) {
      const table = new dynamodb.Table(this, `${def.logicalName}Table`, {
        tableName: name(def.logicalName),
        partitionKey: { name: def.partitionKey, type: dynamodb.AttributeType.STRING },
        sortKey: { name: def.sortKey, type: dynamodb.AttributeType.STRING },
        billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
        pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
        encryption: dynamodb.TableEncryption.AWS_MANAGED,
        timeToLiveAttribute: def.ttlAttribute,
        removalPolicy: removal,
        deletionProtection: prod,
        // The events table's new items feed the notifier.
        stream: def.logicalName === 'events' ? dynamodb.StreamViewType.NEW_IMAGE : undefined,
      });
      for (const index of def.indexes) {
        table.addGlobalSecondaryIndex({
          indexName: index.name,
          partitionKey: { name: index.partitionKey, type: dynamodb.AttributeType.STRING },
          sortKey: {
            name: index.sortKey,
            type: index.sortKeyType === 'N' ? dynamodb.AttributeType.NUMBER : dynamodb.AttributeType.STRING,
          },
          projectionType: dynamodb.ProjectionType.ALL,
        });
      }
      this.tables[def.logicalName] = table;
    }
    const quota = this.tables['quota'];
    const eventsTable = this.tables['events'];

    // Notifications: one custom bus per stage; the notifier publishes to it.
    const bus = new events.EventBus(this, 'Bus', { eventBusName: name('bus') });

    for (const fn of FUNCTIONS) {
      const logGroup = new logs.LogGroup(this, `${fn}Logs`, {
        logGroupName: `/aws/lambda/${name(fn)}`,
        retention: prod ? logs.RetentionDays.THREE_MONTHS : logs.RetentionDays.ONE_WEEK,
        removalPolicy: removal,
      });
      this.functions[fn] = new lambda.Function(this, `${fn}Function`, {
        functionName: name(fn),
        runtime: lambda.Runtime.PROVIDED_AL2023,
        architecture: props.arch === 'x86_64' ? lambda.Architecture.X86_64 : lambda.Architecture.ARM_64,
        handler: 'bootstrap',
        code: props.code?.(fn) ?? lambda.Code.fromAsset(path.join(props.lambdaDir, fn, 'bootstrap.zip')),
        memorySize: SIZING[fn].memory,
        timeout: Duration.seconds(SIZING[fn].timeout),
        loggingFormat: lambda.LoggingFormat.JSON,
        applicationLogLevelV2: lambda.ApplicationLogLevel.INFO,
        systemLogLevelV2: lambda.SystemLogLevel.WARN,
        logGroup,
        environment: {
          QUOTA_TABLE: quota.tableName,
          EVENTS_TABLE: eventsTable.tableName,
          QUOTA_NO_MATCH_POLICY: 'allow',
          QUOTA_FAILURE_MODE: 'open',
          QUOTA_CHECK_BUDGET_MS: '300',
          QUOTA_REQUEST_BUDGET_MS: '3000',
          AUTH_ISSUER: settings.jwtIssuer,
          AUTH_AUDIENCE: settings.jwtAudience,
          AUTH_JWKS_URL: settings.jwksUrl ?? `${settings.jwtIssuer.replace(/\/$/, '')}/.well-known/jwks.json`,
          AUTH_ADMIN_CLAIM: settings.adminClaim,
          AUTH_ADMIN_ROLE: settings.adminRole,
          ...(fn === 'notifier' ? { EVENT_BUS_NAME: bus.eventBusName } : {}),
          ...(fn === 'check' && settings.userJwtIssuer && settings.userJwtAudience
            ? {
              USER_AUTH_ISSUER: settings.userJwtIssuer,
              USER_AUTH_AUDIENCE: settings.userJwtAudience,
              USER_AUTH_JWKS_URL: `${settings.userJwtIssuer.replace(/\/$/, '')}/.well-known/jwks.json`,
              USER_AUTH_ROLES_CLAIM: settings.userRolesClaim ?? 'cognito:groups',
              USER_AUTH_EMAIL_CLAIM: settings.userEmailClaim ?? 'email',
            }
            : {}),
        },
      });
      this.grant(fn, quota, eventsTable);
    }

    this.console = new AdminConsole(this, 'Console', {
      consoleDir: props.consoleDir,
      removalPolicy: removal,
      auth: consoleAuth(settings, stage),
    });
    this.api = new apigw.HttpApi(this, 'Api', {
      apiName: name('api'),
      corsPreflight: {
        // The console on CloudFront, any other admin front end of the stage,
        // and the chat UI's pages (for /me). CORS is no authorization: every
        // route still needs its token.
        allowOrigins: [this.console.origin, settings.adminOrigin, ...(settings.userOrigins ?? [])],
        allowMethods: [
          apigw.CorsHttpMethod.GET,
          apigw.CorsHttpMethod.POST,
          apigw.CorsHttpMethod.PATCH,
          apigw.CorsHttpMethod.DELETE,
          apigw.CorsHttpMethod.OPTIONS,
        ],
        allowHeaders: ['authorization', 'content-type', 'if-match'],
        // x-next-token: the events CSV's next page.
        exposeHeaders: ['etag', 'location', 'retry-after', 'x-next-token'],
        maxAge: Duration.hours(1),
      },
    });
    const defaultStage = this.api.defaultStage?.node.defaultChild as apigw.CfnStage;
    defaultStage.defaultRouteSettings = {
      throttlingRateLimit: settings.throttleRate,
      throttlingBurstLimit: settings.throttleBurst,
    };
    const jwt = new HttpJwtAuthorizer('AdminJwt', settings.jwtIssuer, { jwtAudience: [settings.jwtAudience] });
    const iamAuth = new HttpIamAuthorizer();
    const M = apigw.HttpMethod;
    const integration = (fn: FunctionName) => new HttpLambdaIntegration(`${fn}Integration`, this.functions[fn]);
    const admin = '/api/admin/quota';
    const routes: [string, apigw.HttpMethod[], FunctionName, apigw.IHttpRouteAuthorizer][] = [
      [`${admin}/tiers`, [M.GET, M.POST], 'tiers', jwt],
      [`${admin}/tiers/{tierId}`, [M.GET, M.PATCH, M.DELETE], 'tiers', jwt],
      [`${admin}/assignments`, [M.GET, M.POST], 'assignments', jwt],
      [`${admin}/assignments/{assignmentId}`, [M.GET, M.PATCH, M.DELETE], 'assignments', jwt],
      [`${admin}/overrides`, [M.GET, M.POST], 'overrides', jwt],
      [`${admin}/overrides/{overrideId}`, [M.GET, M.PATCH, M.DELETE], 'overrides', jwt],
      [`${admin}/users/{userId}`, [M.GET], 'users', jwt],
      [`${admin}/events`, [M.GET], 'events', jwt],
      [`${admin}/analytics/top-users`, [M.GET], 'events', jwt],
      [`${admin}/analytics/daily`, [M.GET], 'events', jwt],
      ['/api/quota/check', [M.POST], 'check', iamAuth],
      ['/api/quota/usage', [M.POST], 'check', iamAuth],
    ];
    const integrations = new Map<FunctionName, HttpLambdaIntegration>();
    if (settings.userJwtIssuer && settings.userJwtAudience) {
      // End users read their own quota with the chat app's tokens.
      const userJwt = new HttpJwtAuthorizer('UserJwt', settings.userJwtIssuer, { jwtAudience: [settings.userJwtAudience] });
      routes.push(['/api/quota/me', [M.GET], 'check', userJwt]);
    }
    for (const [routePath, methods, fn, authorizer] of routes) {
      if (!integrations.has(fn)) integrations.set(fn, integration(fn));
      this.api.addRoutes({ path: routePath, methods, integration: integrations.get(fn)!, authorizer });
    }
    new CfnOutput(this, 'ApiUrl', { value: this.api.apiEndpoint, description: 'Base URL of the quota API' });
    this.console.deploy(this.api.apiEndpoint);
    new CfnOutput(this, 'CheckFunctionName', {
      value: this.functions.check.functionName,
      description: 'What the chat backend invokes directly',
    });

    // The stream feeds the notifier: new events only, in order per user,
    // failures reported per record, bounded retries, then a dead-letter queue.
    const deadLetters = new sqs.Queue(this, 'NotifierFailures', {
      queueName: name('notifier-failures'),
      retentionPeriod: Duration.days(14),
      enforceSSL: true,
    });
    this.functions.notifier.addEventSource(new DynamoEventSource(eventsTable, {
      startingPosition: lambda.StartingPosition.LATEST,
      batchSize: 100,
      maxBatchingWindow: Duration.seconds(1),
      bisectBatchOnError: true,
      retryAttempts: 3,
      reportBatchItemFailures: true,
      onFailure: new SqsDlq(deadLetters),
      filters: [lambda.FilterCriteria.filter({ eventName: lambda.FilterRule.isEqual('INSERT') })],
    }));
    bus.grantPutEventsTo(this.functions.notifier);
    if (settings.notifyEmail) {
      const topic = new sns.Topic(this, 'Alerts', { topicName: name('alerts') });
      topic.addSubscription(new subscriptions.EmailSubscription(settings.notifyEmail));
      new events.Rule(this, 'AlertsRule', {
        eventBus: bus,
        eventPattern: { source: ['quota-service'], detailType: ['Quota Warning', 'Quota Blocked'] },
        targets: [new targets.SnsTopic(topic)],
      });
    }

    this.alarms(name, quota, eventsTable);
  }

  /** Least privilege: only the actions and partitions each function uses.
   * Transactions are authorised per item action (Put/Update/Delete). */
  private grant(fn: FunctionName, quota: dynamodb.Table, events: dynamodb.Table) {
    const role = this.functions[fn];
    const leading = (keys: string[]) => ({ 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': keys } });
    if (fn === 'notifier') {
      // Its stream read and its PutEvents are granted with the event source and the bus.
      return;
    }
    if (fn === 'events') {
      // Searches: the table by user, the indexes by tier, type and month. Nothing else.
      role.addToRolePolicy(new iam.PolicyStatement({
        actions: ['dynamodb:Query'],
        resources: [events.tableArn, `${events.tableArn}/index/*`],
        conditions: leading(['USER#*', 'TIER#*', 'TYPE#*', 'EVENTS#*']),
      }));
      // Analytics: the leaderboard partitions of the quota table's indexes,
      // and the settled days' totals it keeps.
      role.addToRolePolicy(new iam.PolicyStatement({
        actions: ['dynamodb:Query'],
        resources: [`${quota.tableArn}/index/*`],
        conditions: leading(['TOPM#*', 'TOPD#*']),
      }));
      role.addToRolePolicy(new iam.PolicyStatement({
        actions: ['dynamodb:GetItem', 'dynamodb:PutItem'],
        resources: [quota.tableArn],
        conditions: leading(['TOTAL#*']),
      }));
      return;
    }
    const reads = fn === 'tiers' || fn === 'overrides'
      ? ['dynamodb:GetItem', 'dynamodb:Query']
      : ['dynamodb:GetItem', 'dynamodb:BatchGetItem', 'dynamodb:Query'];
    const listsByIndex = fn === 'assignments' || fn === 'overrides';
    const quotaResources = listsByIndex ? [quota.tableArn, `${quota.tableArn}/index/*`] : [quota.tableArn];
    role.addToRolePolicy(new iam.PolicyStatement({
      actions: reads,
      resources: quotaResources,
      conditions: leading(QUOTA_READ_KEYS[fn]),
    }));
    const writes: Record<FunctionName, string[]> = {
      tiers: ['dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem'],
      assignments: ['dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem'],
      // Writes are whole-item Puts (the canonical item and the user's copy) and Deletes.
      overrides: ['dynamodb:PutItem', 'dynamodb:DeleteItem'],
      users: [],
      events: [],
      notifier: [],
      check: ['dynamodb:PutItem', 'dynamodb:UpdateItem'],
    };
    if (writes[fn].length > 0) {
      role.addToRolePolicy(new iam.PolicyStatement({
        actions: writes[fn],
        resources: [quota.tableArn],
        conditions: leading(QUOTA_WRITE_KEYS[fn]),
      }));
    }
    if (fn === 'check') {
      role.addToRolePolicy(new iam.PolicyStatement({ actions: ['dynamodb:PutItem'], resources: [events.tableArn] }));
      // A strict check's reservation is conditional on the configuration
      // version and on the request not being recorded yet (no write there).
      role.addToRolePolicy(new iam.PolicyStatement({
        actions: ['dynamodb:ConditionCheckItem'],
        resources: [quota.tableArn],
        conditions: leading(['USER#*', 'VERSION#*']),
      }));
    }
    // Admin writes put their admin_change event in the same transaction:
    // with the user it is about, or with its target.
    const auditKeys: Partial<Record<FunctionName, string[]>> = {
      tiers: ['AUDIT#*'],
      assignments: ['AUDIT#*', 'USER#*'],
      overrides: ['USER#*'],
    };
    const audit = auditKeys[fn];
    if (audit) {
      role.addToRolePolicy(new iam.PolicyStatement({
        actions: ['dynamodb:PutItem'],
        resources: [events.tableArn],
        conditions: leading(audit),
      }));
    }
    if (fn === 'users') {
      role.addToRolePolicy(new iam.PolicyStatement({
        actions: ['dynamodb:Query'],
        resources: [events.tableArn],
        conditions: leading(['USER#*']),
      }));
    }
  }

  private alarms(name: (s: string) => string, quota: dynamodb.Table, events: dynamodb.Table) {
    const period = Duration.minutes(5);
    for (const fn of FUNCTIONS) {
      const f = this.functions[fn];
      new cloudwatch.Alarm(this, `${fn}ErrorsAlarm`, {
        alarmName: name(`${fn}-errors`),
        metric: f.metricErrors({ period }),
        threshold: 1,
        evaluationPeriods: 1,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
      new cloudwatch.Alarm(this, `${fn}ThrottlesAlarm`, {
        alarmName: name(`${fn}-throttles`),
        metric: f.metricThrottles({ period }),
        threshold: 1,
        evaluationPeriods: 1,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
    }
    const O = dynamodb.Operation;
    for (const [label, table] of [['quota', quota], ['events', events]] as const) {
      new cloudwatch.Alarm(this, `${label}ThrottledAlarm`, {
        alarmName: name(`${label}-table-throttled`),
        metric: table.metricThrottledRequestsForOperations({
          operations: [O.GET_ITEM, O.BATCH_GET_ITEM, O.QUERY, O.PUT_ITEM, O.UPDATE_ITEM, O.DELETE_ITEM, O.TRANSACT_WRITE_ITEMS],
          period,
        }),
        threshold: 1,
        evaluationPeriods: 1,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
    }
    // The functions emit CloudWatch Embedded Metric Format lines (shared/src/emf.rs):
    // these are their metrics, with the dimensions they carry.
    const ns = 'QuotaService';
    const emf = (metricName: string, dimensionsMap: Record<string, string> = {}) =>
      new cloudwatch.Metric({ namespace: ns, metricName, dimensionsMap, period, statistic: 'Sum' });
    const degraded = new cloudwatch.MathExpression({
      expression: 'open + closed',
      usingMetrics: {
        open: emf('DegradedAnswers', { FailureMode: 'open' }),
        closed: emf('DegradedAnswers', { FailureMode: 'closed' }),
      },
      period,
      label: 'Degraded answers',
    });
    new cloudwatch.Alarm(this, 'DegradedAnswersAlarm', {
      alarmName: name('degraded-answers'),
      alarmDescription: 'Checks answered by the failure mode: the quota store was unreadable',
      metric: degraded,
      threshold: 1,
      evaluationPeriods: 1,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    new cloudwatch.Alarm(this, 'ConfigItemsSkippedAlarm', {
      alarmName: name('config-items-skipped'),
      alarmDescription: 'A malformed tier, assignment or override was skipped',
      metric: emf('ConfigItemsSkipped'),
      threshold: 1,
      evaluationPeriods: 1,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    const search = (metric: string, dims: string, label: string) =>
      new cloudwatch.MathExpression({
        expression: `SEARCH('{${ns},${dims}} MetricName="${metric}"', 'Sum', 300)`,
        label,
        period,
      });
    const dashboard = new cloudwatch.Dashboard(this, 'Dashboard', { dashboardName: name('dashboard') });
    dashboard.addWidgets(
      new cloudwatch.GraphWidget({ title: 'Blocks by tier and window', left: [search('Blocks', 'Tier,Window', 'blocks')], width: 12 }),
      new cloudwatch.GraphWidget({ title: 'Warnings by tier and window', left: [search('Warnings', 'Tier,Window', 'warnings')], width: 12 }),
    );
    dashboard.addWidgets(
      new cloudwatch.GraphWidget({ title: 'Degraded answers', left: [degraded], width: 8 }),
      new cloudwatch.GraphWidget({ title: 'Store failures by operation', left: [search('StoreFailures', 'Operation', 'failures')], width: 8 }),
      new cloudwatch.GraphWidget({
        title: 'Repeated request ids, skipped items',
        left: [emf('IdempotencyConflicts'), emf('ConfigItemsSkipped')],
        width: 8,
      }),
    );
    dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'Check latency (p50, p99)',
        left: [
          this.functions.check.metricDuration({ period, statistic: 'p50' }),
          this.functions.check.metricDuration({ period, statistic: 'p99' }),
        ],
        width: 12,
      }),
      new cloudwatch.GraphWidget({
        title: 'Function errors',
        left: FUNCTIONS.map((fn) => this.functions[fn].metricErrors({ period })),
        width: 12,
      }),
    );
  }
}
