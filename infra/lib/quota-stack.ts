// The quota service's stack: one Lambda per function crate, the HTTP API
// with a JWT authorizer for admins and IAM auth for the chat backend, and the
// notifier's pipeline. Its parts live beside it: the stage's settings
// (settings.ts), the tables (tables.ts), least-privilege IAM
// (permissions.ts), alarms and the dashboard (alarms.ts), the console
// (console.ts). They are functions over this stack, not constructs of their
// own, so every resource keeps its logical id: a live stage's tables are
// never replaced by a refactor.
import * as path from 'path';
import { CfnOutput, Duration, RemovalPolicy, Stack, StackProps } from 'aws-cdk-lib';
import * as apigw from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpIamAuthorizer, HttpJwtAuthorizer } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import { DynamoEventSource, SqsDlq } from 'aws-cdk-lib/aws-lambda-event-sources';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { addAlarms } from './alarms';
import { AdminConsole, consoleAuth } from './console';
import { grant } from './permissions';
import { Arch, fanoutEnvironment, FunctionName, FUNCTIONS, StageSettings } from './settings';
import { addTables } from './tables';

export { Arch, fanoutEnvironment, FUNCTIONS, FunctionName, lambdaDirFor, StageSettings, stageSettings, tableDefinitions } from './settings';

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
  prices: { memory: 128, timeout: 10 },
  groups: { memory: 128, timeout: 10 },
  notifier: { memory: 128, timeout: 30 },
  check: { memory: 256, timeout: 5 },
};

export class QuotaStack extends Stack {
  readonly tables: Record<string, dynamodb.Table>;
  readonly functions = {} as Record<FunctionName, lambda.Function>;
  readonly api: apigw.HttpApi;
  readonly console: AdminConsole;

  constructor(scope: Construct, id: string, props: QuotaStackProps) {
    super(scope, id, props);
    const { stage, settings } = props;
    const prod = stage === 'prod';
    const name = (s: string) => `quota-${stage}-${s}`;
    const removal = prod ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY;

    this.tables = addTables(this, name, removal, prod);
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
          ...fanoutEnvironment(settings, stage),
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
      grant(fn, this.functions[fn], quota, eventsTable);
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
      [`${admin}/prices`, [M.GET, M.POST], 'prices', jwt],
      [`${admin}/prices/quote`, [M.POST], 'prices', jwt],
      [`${admin}/prices/{priceId}`, [M.GET, M.DELETE], 'prices', jwt],
      [`${admin}/groups`, [M.GET, M.POST], 'groups', jwt],
      [`${admin}/groups/{groupId}`, [M.GET, M.PATCH, M.DELETE], 'groups', jwt],
      [`${admin}/groups/{groupId}/members`, [M.GET], 'groups', jwt],
      [`${admin}/groups/{groupId}/members/{userId}`, [M.POST, M.DELETE], 'groups', jwt],
      [`${admin}/groups/{groupId}/usage`, [M.GET], 'groups', jwt],
      [`${admin}/shadow`, [M.GET], 'users', jwt],
      [`${admin}/simulate`, [M.POST], 'users', jwt],
      [`${admin}/events`, [M.GET], 'events', jwt],
      [`${admin}/analytics/top-users`, [M.GET], 'events', jwt],
      [`${admin}/analytics/daily`, [M.GET], 'events', jwt],
      ['/api/quota/check', [M.POST], 'check', iamAuth],
      ['/api/quota/usage', [M.POST], 'check', iamAuth],
      ['/api/quota/release', [M.POST], 'check', iamAuth],
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

    addAlarms(this, name, this.functions, quota, eventsTable);
  }
}
