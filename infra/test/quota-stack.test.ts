// Template assertions for everything the stack promises, synthesized without
// compiling Rust: the functions' code is a stand-in directory.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { App } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { Arch, FUNCTIONS, QuotaStack, fanoutEnvironment, lambdaDirFor, stageSettings } from '../lib/quota-stack';
import { consoleAuth, consoleDirFor } from '../lib/console';

const cdkJson = JSON.parse(fs.readFileSync(path.join(__dirname, '..', '..', 'cdk.json'), 'utf8'));
const stubDir = fs.mkdtempSync(path.join(os.tmpdir(), 'quota-stub-'));
const consoleDir = consoleDirFor(path.join(__dirname, '..', '..', '..', 'console'));
fs.writeFileSync(path.join(stubDir, 'bootstrap'), '#!/bin/sh\n');

function synth(stage: string, arch: Arch = 'arm64'): Template {
  const app = new App();
  const stack = new QuotaStack(app, `Quota-${stage}`, {
    stage,
    arch,
    settings: stageSettings(cdkJson.context.stages, stage),
    lambdaDir: '/nonexistent',
    consoleDir,
    code: () => lambda.Code.fromAsset(stubDir),
  });
  return Template.fromStack(stack);
}

const dev = synth('dev');
const prod = synth('prod');
const schema = JSON.parse(fs.readFileSync(path.join(__dirname, '..', '..', '..', 'shared', 'schema', 'tables.json'), 'utf8'));

test('tables follow the shared schema: keys, every index, TTL, on demand, PITR, encryption', () => {
  for (const def of schema) {
    dev.hasResourceProperties('AWS::DynamoDB::Table', {
      TableName: `quota-dev-${def.logicalName}`,
      KeySchema: [
        { AttributeName: def.partitionKey, KeyType: 'HASH' },
        { AttributeName: def.sortKey, KeyType: 'RANGE' },
      ],
      BillingMode: 'PAY_PER_REQUEST',
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      SSESpecification: { SSEEnabled: true },
      TimeToLiveSpecification: { AttributeName: def.ttlAttribute, Enabled: true },
      GlobalSecondaryIndexes: def.indexes.map((i: { name: string; partitionKey: string; sortKey: string; projection: string; nonKeyAttributes: string[] }) => ({
        IndexName: i.name,
        KeySchema: [
          { AttributeName: i.partitionKey, KeyType: 'HASH' },
          { AttributeName: i.sortKey, KeyType: 'RANGE' },
        ],
        Projection: i.projection === 'INCLUDE'
          ? { ProjectionType: 'INCLUDE', NonKeyAttributes: i.nonKeyAttributes }
          : { ProjectionType: 'ALL' },
      })),
    });
    // A numeric index sort key (the leaderboards' cost) is declared as a number.
    for (const i of def.indexes) {
      dev.hasResourceProperties('AWS::DynamoDB::Table', {
        TableName: `quota-dev-${def.logicalName}`,
        AttributeDefinitions: Match.arrayWith([{ AttributeName: i.sortKey, AttributeType: i.sortKeyType }]),
      });
    }
  }
  dev.resourceCountIs('AWS::DynamoDB::Table', schema.length);
});

test('prod keeps its tables on stack deletion and protects them; dev may delete them', () => {
  const tables = (t: Template) => Object.values(t.findResources('AWS::DynamoDB::Table'));
  for (const t of tables(prod)) {
    assert.equal(t.DeletionPolicy, 'Retain');
    assert.equal(t.UpdateReplacePolicy, 'Retain');
    assert.equal(t.Properties.DeletionProtectionEnabled, true);
  }
  for (const t of tables(dev)) {
    assert.equal(t.DeletionPolicy, 'Delete');
    assert.notEqual(t.Properties.DeletionProtectionEnabled, true);
  }
});

test('one Lambda per function crate, provided.al2023, arm64 by default, sized and logged on purpose', () => {
  const ours = Object.values(dev.findResources('AWS::Lambda::Function')).filter((f) => f.Properties.FunctionName);
  assert.equal(ours.length, FUNCTIONS.length);
  for (const fn of FUNCTIONS) {
    dev.hasResourceProperties('AWS::Lambda::Function', {
      FunctionName: `quota-dev-${fn}`,
      Runtime: 'provided.al2023',
      Handler: 'bootstrap',
      Architectures: ['arm64'],
      MemorySize: fn === 'check' ? 256 : 128,
      Timeout: fn === 'check' ? 5 : fn === 'notifier' ? 30 : 10,
      LoggingConfig: Match.objectLike({ LogFormat: 'JSON', ApplicationLogLevel: 'INFO' }),
      Environment: {
        Variables: Match.objectLike({
          QUOTA_TABLE: Match.anyValue(),
          EVENTS_TABLE: Match.anyValue(),
          AUTH_ISSUER: cdkJson.context.stages.dev.jwtIssuer,
          AUTH_AUDIENCE: cdkJson.context.stages.dev.jwtAudience,
          AUTH_ADMIN_CLAIM: 'cognito:groups',
        }),
      },
    });
    dev.hasResourceProperties('AWS::Logs::LogGroup', { LogGroupName: `/aws/lambda/quota-dev-${fn}`, RetentionInDays: 7 });
  }
  prod.hasResourceProperties('AWS::Logs::LogGroup', { LogGroupName: '/aws/lambda/quota-prod-check', RetentionInDays: 90 });
  const x86 = synth('dev', 'x86_64');
  for (const f of Object.values(x86.findResources('AWS::Lambda::Function')).filter((f) => f.Properties.FunctionName)) {
    assert.deepEqual(f.Properties.Architectures, ['x86_64']);
  }
});

const ADMIN_ROUTES = [
  'GET /api/admin/quota/tiers',
  'POST /api/admin/quota/tiers',
  'GET /api/admin/quota/tiers/{tierId}',
  'PATCH /api/admin/quota/tiers/{tierId}',
  'DELETE /api/admin/quota/tiers/{tierId}',
  'GET /api/admin/quota/assignments',
  'POST /api/admin/quota/assignments',
  'GET /api/admin/quota/assignments/{assignmentId}',
  'PATCH /api/admin/quota/assignments/{assignmentId}',
  'DELETE /api/admin/quota/assignments/{assignmentId}',
  'GET /api/admin/quota/overrides',
  'POST /api/admin/quota/overrides',
  'GET /api/admin/quota/overrides/{overrideId}',
  'PATCH /api/admin/quota/overrides/{overrideId}',
  'DELETE /api/admin/quota/overrides/{overrideId}',
  'GET /api/admin/quota/users/{userId}',
  'GET /api/admin/quota/prices',
  'POST /api/admin/quota/prices',
  'POST /api/admin/quota/prices/quote',
  'GET /api/admin/quota/prices/{priceId}',
  'DELETE /api/admin/quota/prices/{priceId}',
  'GET /api/admin/quota/groups',
  'POST /api/admin/quota/groups',
  'GET /api/admin/quota/groups/{groupId}',
  'PATCH /api/admin/quota/groups/{groupId}',
  'DELETE /api/admin/quota/groups/{groupId}',
  'GET /api/admin/quota/groups/{groupId}/members',
  'POST /api/admin/quota/groups/{groupId}/members/{userId}',
  'DELETE /api/admin/quota/groups/{groupId}/members/{userId}',
  'GET /api/admin/quota/groups/{groupId}/usage',
  'GET /api/admin/quota/shadow',
  'POST /api/admin/quota/simulate',
  'GET /api/admin/quota/events',
  'GET /api/admin/quota/analytics/top-users',
  'GET /api/admin/quota/analytics/daily',
];
const CHECK_ROUTES = ['POST /api/quota/check', 'POST /api/quota/usage', 'POST /api/quota/release'];
const USER_ROUTES = ['GET /api/quota/me'];

test('the HTTP API has exactly the documented routes: JWT for admins, IAM for the chat backend', () => {
  const routes = Object.values(dev.findResources('AWS::ApiGatewayV2::Route')).map((r) => r.Properties);
  assert.deepEqual(routes.map((r) => r.RouteKey).sort(), [...ADMIN_ROUTES, ...CHECK_ROUTES, ...USER_ROUTES].sort());
  for (const r of routes) {
    const expected = CHECK_ROUTES.includes(r.RouteKey) ? 'AWS_IAM' : 'JWT';
    assert.equal(r.AuthorizationType, expected, r.RouteKey);
  }
  // /me has its own authorizer: the chat app's identity provider, not the admins'.
  dev.hasResourceProperties('AWS::ApiGatewayV2::Authorizer', {
    AuthorizerType: 'JWT',
    JwtConfiguration: { Issuer: cdkJson.context.stages.dev.userJwtIssuer, Audience: [cdkJson.context.stages.dev.userJwtAudience] },
  });
  dev.hasResourceProperties('AWS::Lambda::Function', {
    FunctionName: 'quota-dev-check',
    Environment: { Variables: Match.objectLike({ USER_AUTH_AUDIENCE: cdkJson.context.stages.dev.userJwtAudience }) },
  });
  dev.hasResourceProperties('AWS::ApiGatewayV2::Authorizer', {
    AuthorizerType: 'JWT',
    JwtConfiguration: { Issuer: cdkJson.context.stages.dev.jwtIssuer, Audience: [cdkJson.context.stages.dev.jwtAudience] },
  });
  dev.hasResourceProperties('AWS::ApiGatewayV2::Integration', { IntegrationType: 'AWS_PROXY', PayloadFormatVersion: '2.0' });
});

test('the API is throttled, allows the console, admin and chat UI origins, and outputs its URL', () => {
  dev.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
    StageName: '$default',
    DefaultRouteSettings: { ThrottlingRateLimit: 50, ThrottlingBurstLimit: 100 },
  });
  prod.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
    DefaultRouteSettings: { ThrottlingRateLimit: 500, ThrottlingBurstLimit: 1000 },
  });
  dev.hasResourceProperties('AWS::ApiGatewayV2::Api', {
    CorsConfiguration: Match.objectLike({
      AllowOrigins: [
        { 'Fn::Join': ['', ['https://', { 'Fn::GetAtt': [Match.stringLikeRegexp('^ConsoleDistribution'), 'DomainName'] }]] },
        cdkJson.context.stages.dev.adminOrigin,
        ...cdkJson.context.stages.dev.userOrigins,
      ],
      AllowHeaders: ['authorization', 'content-type', 'if-match'],
      ExposeHeaders: ['etag', 'location', 'retry-after', 'x-next-token'],
    }),
  });
  dev.hasOutput('ApiUrl', {});
  dev.hasOutput('CheckFunctionName', {});
});

type Statement = { Action: string | string[]; Resource: unknown; Condition?: Record<string, Record<string, string[]>> };

function statements(t: Template): Statement[] {
  return Object.values(t.findResources('AWS::IAM::Policy')).flatMap((p) => p.Properties.PolicyDocument.Statement);
}

function actions(s: Statement): string[] {
  return Array.isArray(s.Action) ? s.Action : [s.Action];
}

test('no policy allows Scan or a wildcard DynamoDB action', () => {
  const all = statements(dev).flatMap(actions);
  assert.ok(all.length > 0);
  for (const a of all) {
    assert.notEqual(a.toLowerCase(), 'dynamodb:scan');
    assert.ok(!/^dynamodb:.*\*/.test(a) && a !== '*', `wildcard action ${a}`);
  }
  // ListStreams is account-wide by nature (the stream event source asks for it); every other
  // DynamoDB action is scoped to our tables.
  const tableActions = (s: Statement) => actions(s).filter((a) => a.startsWith('dynamodb:') && a !== 'dynamodb:ListStreams');
  for (const s of statements(dev).filter((s) => tableActions(s).length > 0)) {
    assert.notEqual(s.Resource, '*', 'DynamoDB actions are scoped to our tables');
  }
});

function policyOf(t: Template, fn: string): Statement[] {
  const fnRes = Object.entries(t.findResources('AWS::Lambda::Function')).find(([, r]) => r.Properties.FunctionName === `quota-dev-${fn}`)!;
  const roleRef = (fnRes[1].Properties.Role as { 'Fn::GetAtt': string[] })['Fn::GetAtt'][0];
  return Object.values(t.findResources('AWS::IAM::Policy'))
    .filter((p) => (p.Properties.Roles as { Ref: string }[]).some((r) => r.Ref === roleRef))
    .flatMap((p) => p.Properties.PolicyDocument.Statement);
}

test('each function gets only the actions and partitions it uses', () => {
  const check = policyOf(dev, 'check');
  const checkWrites = check.filter((s) => actions(s).includes('dynamodb:UpdateItem'));
  assert.equal(checkWrites.length, 1);
  // Its users' rows, and their groups' usage rows (shards, pool holds, event flags): never configuration.
  assert.deepEqual(checkWrites[0].Condition, { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['USER#*', 'GROUP#*'] } });
  assert.ok(!check.flatMap(actions).includes('dynamodb:DeleteItem'), 'the check never deletes');
  const conditionChecks = check.filter((s) => actions(s).includes('dynamodb:ConditionCheckItem'));
  assert.equal(conditionChecks.length, 1, 'strict reservations check the version and the marker');
  assert.deepEqual(conditionChecks[0].Condition, {
    'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['USER#*', 'VERSION#*'] },
  });
  const users = policyOf(dev, 'users');
  for (const a of users.flatMap(actions)) {
    assert.ok(['dynamodb:GetItem', 'dynamodb:BatchGetItem', 'dynamodb:Query'].includes(a) || !a.startsWith('dynamodb:'), `users may only read, not ${a}`);
  }
  const overrides = policyOf(dev, 'overrides');
  const overrideWrites = overrides.filter(
    (s) => actions(s).includes('dynamodb:PutItem') && JSON.stringify(s.Resource).includes('quotaTable'),
  );
  assert.equal(overrideWrites.length, 1);
  assert.deepEqual(overrideWrites[0].Condition, {
    'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['OVERRIDE#*', 'USER#*'] },
  });
  assert.ok(!overrides.flatMap(actions).includes('dynamodb:UpdateItem'), 'overrides only put and delete');
  const overrideKeys = overrides.flatMap((s) => s.Condition?.['ForAllValues:StringLike']?.['dynamodb:LeadingKeys'] ?? []);
  assert.ok(!overrideKeys.includes('CONFIG'), 'the overrides function cannot touch tiers or assignments');
  const events = policyOf(dev, 'events');
  assert.ok(
    events.filter((s) => JSON.stringify(s.Resource).includes('eventsTable')).flatMap(actions).every((a) => a === 'dynamodb:Query'),
    'the events function only queries the events table',
  );
  const totals = events.filter((s) => actions(s).includes('dynamodb:PutItem'));
  assert.deepEqual(totals.map((s) => s.Condition), [{ 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['TOTAL#*'] } }], 'it writes only the kept day totals');
  const prices = policyOf(dev, 'prices');
  const priceKeys = prices.flatMap((s) => s.Condition?.['ForAllValues:StringLike']?.['dynamodb:LeadingKeys'] ?? []);
  assert.ok(!priceKeys.includes('USER#*'), 'the prices function cannot touch users or usage');
  const priceUpdates = prices.filter((s) => actions(s).includes('dynamodb:UpdateItem'));
  assert.deepEqual(priceUpdates.map((s) => s.Condition), [{ 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['VERSION#*'] } }], 'prices update only the version copies');
  for (const fn of ['tiers', 'assignments', 'overrides', 'prices', 'groups']) {
    const puts = policyOf(dev, fn).filter((s) => actions(s).includes('dynamodb:PutItem') && JSON.stringify(s.Resource).includes('eventsTable'));
    assert.equal(puts.length, 1, `${fn} writes its audit events`);
    assert.ok(puts[0].Condition, `${fn}'s audit writes are limited to their partitions`);
  }
  const tiers = policyOf(dev, 'tiers');
  const tierKeys = tiers.flatMap((s) => s.Condition?.['ForAllValues:StringLike']?.['dynamodb:LeadingKeys'] ?? []);
  assert.ok(!tierKeys.includes('USER#*'), 'the tiers function cannot touch users or usage');
  const tierChecks = tiers.filter((s) => actions(s).includes('dynamodb:ConditionCheckItem'));
  assert.deepEqual(tierChecks.map((s) => s.Condition), [{ 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['VERSION#*'] } }], 'aligning the version copies conditions only on them');
});

test('alarms: function errors and throttles, table throttling, degraded answers; EMF metrics on a dashboard', () => {
  for (const fn of FUNCTIONS) {
    dev.hasResourceProperties('AWS::CloudWatch::Alarm', { AlarmName: `quota-dev-${fn}-errors`, MetricName: 'Errors' });
    dev.hasResourceProperties('AWS::CloudWatch::Alarm', { AlarmName: `quota-dev-${fn}-throttles`, MetricName: 'Throttles' });
  }
  dev.hasResourceProperties('AWS::CloudWatch::Alarm', { AlarmName: 'quota-dev-quota-table-throttled' });
  // The functions' metrics are Embedded Metric Format lines; alarms and a dashboard read them.
  dev.resourceCountIs('AWS::Logs::MetricFilter', 0);
  const degraded = Object.values(dev.findResources('AWS::CloudWatch::Alarm'))
    .map((a) => a.Properties)
    .find((p) => p.AlarmName === 'quota-dev-degraded-answers');
  assert.ok(degraded, 'an alarm on degraded answers');
  const used = JSON.stringify(degraded.Metrics);
  assert.ok(used.includes('DegradedAnswers') && used.includes('QuotaService') && used.includes('FailureMode'), used);
  dev.hasResourceProperties('AWS::CloudWatch::Alarm', { AlarmName: 'quota-dev-config-items-skipped', MetricName: 'ConfigItemsSkipped', Namespace: 'QuotaService' });
  const dashboards = Object.values(dev.findResources('AWS::CloudWatch::Dashboard'));
  assert.equal(dashboards.length, 1);
  const body = JSON.stringify(dashboards[0].Properties.DashboardBody);
  for (const metric of ['Blocks', 'Warnings', 'StoreFailures', 'DegradedAnswers', 'IdempotencyConflicts']) {
    assert.ok(body.includes(metric), `the dashboard shows ${metric}`);
  }
});

test('stages cannot collide: every named resource carries the stage', () => {
  const names = (t: Template) =>
    [
      ...Object.values(t.findResources('AWS::DynamoDB::Table')).map((r) => r.Properties.TableName),
      // CDK's own helpers (the console upload) are unnamed.
      ...Object.values(t.findResources('AWS::Lambda::Function')).map((r) => r.Properties.FunctionName).filter(Boolean),
      ...Object.values(t.findResources('AWS::CloudWatch::Alarm')).map((r) => r.Properties.AlarmName),
    ] as string[];
  const d = names(dev);
  const p = names(prod);
  assert.ok(d.every((n) => n.startsWith('quota-dev-')));
  assert.ok(p.every((n) => n.startsWith('quota-prod-')));
  assert.throws(() => stageSettings(cdkJson.context.stages, 'qa'), /no settings for stage "qa"/);
});

test('fan-out settings: every function gets the stage\'s, validated against shared/schema/fanout.json', () => {
  const envOf = (t: Template) =>
    Object.values(t.findResources('AWS::Lambda::Function'))
      .map((r) => r.Properties.Environment?.Variables ?? {})
      .filter((v) => v.QUOTA_TABLE);
  for (const v of envOf(prod)) {
    assert.deepEqual([v.QUOTA_VERSION_COPIES, v.QUOTA_RANK_SHARDS, v.QUOTA_GROUP_USAGE_SHARDS, v.QUOTA_EVENT_PARTITIONS], ['48', '320', '8', '64']);
    assert.equal(v.QUOTA_VERSION_COPIES_PREVIOUS, undefined, 'no rollout in progress');
  }
  for (const v of envOf(dev)) {
    assert.deepEqual([v.QUOTA_VERSION_COPIES, v.QUOTA_RANK_SHARDS, v.QUOTA_EVENT_PARTITIONS], ['8', '16', '1']);
  }
  assert.equal(envOf(prod).length, FUNCTIONS.length);
  const dev0 = stageSettings(cdkJson.context.stages, 'dev');
  const rolling = fanoutEnvironment({ ...dev0, fanout: { versionCopies: 40, versionCopiesPrevious: 8 } }, 'dev');
  assert.equal(rolling.QUOTA_VERSION_COPIES_PREVIOUS, '8');
  assert.equal(rolling.QUOTA_RANK_SHARDS, '320', 'an unset count takes the shipped default');
  assert.throws(() => fanoutEnvironment({ ...dev0, fanout: { versionCopies: 65 } }, 'dev'), /fanout.versionCopies is 65; expected 1 to 64/);
  assert.throws(() => fanoutEnvironment({ ...dev0, fanout: { rankShards: 2.5 } }, 'dev'), /fanout.rankShards is 2.5/);
  assert.throws(() => fanoutEnvironment({ ...dev0, fanout: { eventShards: 4 } as never }, 'dev'), /fanout.eventShards is not a setting/);
});

test('templates are written for cfn-lint (make test lints them)', () => {
  const out = path.join(__dirname, '..', '..', 'cdk.out.test');
  fs.mkdirSync(out, { recursive: true });
  for (const [stage, t] of [['dev', dev], ['prod', prod]] as const) {
    fs.writeFileSync(path.join(out, `Quota-${stage}.template.json`), JSON.stringify(t.toJSON(), null, 1));
  }
  assert.ok(fs.existsSync(path.join(out, 'Quota-prod.template.json')));
});

test('zips are looked up per architecture, so an x86_64 build cannot deploy as arm64', () => {
  const target = fs.mkdtempSync(path.join(os.tmpdir(), 'quota-target-'));
  for (const fn of FUNCTIONS) {
    fs.mkdirSync(path.join(target, 'lambda-x86_64', fn), { recursive: true });
    fs.writeFileSync(path.join(target, 'lambda-x86_64', fn, 'bootstrap.zip'), 'zip');
  }
  assert.equal(lambdaDirFor('x86_64', target), path.join(target, 'lambda-x86_64'));
  assert.throws(() => lambdaDirFor('arm64', target), /no arm64 build of .* run `make build ARCH=arm64` first/);
  assert.throws(() => lambdaDirFor('riscv', target), /arch must be arm64 or x86_64/);
});

test('notifications: the events stream feeds the notifier (INSERTs, item failures, bounded retries, a dead-letter queue) which publishes to the stage bus', () => {
  dev.hasResourceProperties('AWS::DynamoDB::Table', { TableName: 'quota-dev-events', StreamSpecification: { StreamViewType: 'NEW_IMAGE' } });
  dev.hasResourceProperties('AWS::Events::EventBus', { Name: 'quota-dev-bus' });
  dev.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
    StartingPosition: 'LATEST',
    BisectBatchOnFunctionError: true,
    MaximumRetryAttempts: 3,
    FunctionResponseTypes: ['ReportBatchItemFailures'],
    FilterCriteria: { Filters: [{ Pattern: JSON.stringify({ eventName: ['INSERT'] }) }] },
    DestinationConfig: { OnFailure: Match.objectLike({ Destination: Match.anyValue() }) },
  });
  const notifier = policyOf(dev, 'notifier');
  assert.ok(notifier.flatMap(actions).includes('events:PutEvents'));
  assert.ok(!notifier.flatMap(actions).some((a) => ['dynamodb:PutItem', 'dynamodb:Query', 'dynamodb:GetItem'].includes(a)), 'the notifier reads the stream only');
  dev.hasResourceProperties('AWS::Lambda::Function', {
    FunctionName: 'quota-dev-notifier',
    Environment: { Variables: Match.objectLike({ EVENT_BUS_NAME: Match.anyValue() }) },
  });
  dev.resourceCountIs('AWS::SNS::Topic', 0);
});

test('a stage with notifyEmail also e-mails warnings and blocks through SNS', () => {
  const app = new App();
  const settings = { ...stageSettings(cdkJson.context.stages, 'dev'), notifyEmail: 'quota-alerts@uni.edu' };
  const stack = new QuotaStack(app, 'Quota-mail', {
    stage: 'mail', arch: 'arm64', settings, lambdaDir: '/nonexistent', consoleDir, code: () => lambda.Code.fromAsset(stubDir),
  });
  const t = Template.fromStack(stack);
  t.hasResourceProperties('AWS::SNS::Subscription', { Protocol: 'email', Endpoint: 'quota-alerts@uni.edu' });
  t.hasResourceProperties('AWS::Events::Rule', {
    EventPattern: { source: ['quota-service'], 'detail-type': ['Quota Warning', 'Quota Blocked'] },
  });
});

test('the console: a private bucket served by CloudFront through origin access control, with security headers', () => {
  dev.hasResourceProperties('AWS::S3::Bucket', {
    PublicAccessBlockConfiguration: { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true },
    BucketEncryption: Match.objectLike({}),
  });
  dev.hasResourceProperties('AWS::CloudFront::OriginAccessControl', {
    OriginAccessControlConfig: Match.objectLike({ OriginAccessControlOriginType: 's3', SigningBehavior: 'always' }),
  });
  dev.hasResourceProperties('AWS::CloudFront::Distribution', {
    DistributionConfig: Match.objectLike({
      DefaultRootObject: 'index.html',
      DefaultCacheBehavior: Match.objectLike({ ViewerProtocolPolicy: 'redirect-to-https' }),
      // config.json is written at deploy time and never cached.
      CacheBehaviors: [Match.objectLike({ PathPattern: '/config.json', CachePolicyId: '4135ea2d-6df8-44a3-9df3-4b5a84be39ad' })],
      Origins: [Match.objectLike({ OriginAccessControlId: Match.anyValue(), S3OriginConfig: { OriginAccessIdentity: '' } })],
    }),
  });
  // Only CloudFront may read the bucket, and only over TLS.
  const policies = Object.values(dev.findResources('AWS::S3::BucketPolicy')).flatMap((p) => p.Properties.PolicyDocument.Statement);
  assert.ok(policies.some((s) => s.Principal?.Service === 'cloudfront.amazonaws.com' && s.Action === 's3:GetObject'));
  assert.ok(policies.some((s) => s.Effect === 'Deny' && JSON.stringify(s.Condition).includes('aws:SecureTransport')));
  const [headers] = Object.values(dev.findResources('AWS::CloudFront::ResponseHeadersPolicy'));
  const security = headers.Properties.ResponseHeadersPolicyConfig.SecurityHeadersConfig;
  const csp = JSON.stringify(security.ContentSecurityPolicy.ContentSecurityPolicy);
  assert.match(csp, /script-src 'self' 'sha256-[A-Za-z0-9+/=]+'/);
  assert.match(csp, /frame-ancestors 'none'/);
  assert.match(csp, /quota-admin-dev\.auth\.eu-west-1\.amazoncognito\.com/);
  assert.equal(security.FrameOptions.FrameOption, 'DENY');
  assert.ok(Object.keys(dev.findOutputs('*')).some((o) => o.startsWith('ConsoleUrl')));
});

test("the console's config.json names this stage's API and its OIDC sign-in, written at deploy", () => {
  const [deployment] = Object.values(dev.findResources('Custom::CDKBucketDeployment'));
  assert.ok(deployment.Properties.DistributionPaths.includes('/*'), 'the cache is invalidated');
  // The API's URL is only known at deploy: a marker CloudFormation resolves into config.json.
  assert.match(JSON.stringify(deployment.Properties.SourceMarkers), /"Fn::GetAtt":\["Api[0-9A-F]+","ApiEndpoint"\]/);
  const auth = consoleAuth(cdkJson.context.stages.dev, 'dev');
  assert.deepEqual(auth, {
    authorizeUrl: 'https://quota-admin-dev.auth.eu-west-1.amazoncognito.com/oauth2/authorize',
    tokenUrl: 'https://quota-admin-dev.auth.eu-west-1.amazoncognito.com/oauth2/token',
    clientId: cdkJson.context.stages.dev.jwtAudience,
    scope: 'openid email profile',
  });
  assert.throws(() => consoleAuth({ jwtAudience: 'x' }, 'qa'), /lacks consoleAuthDomain/);
  assert.throws(
    () => consoleAuth({ jwtAudience: 'x', consoleAuthorizeUrl: 'http://idp/authorize', consoleTokenUrl: 'https://idp/token' }, 'qa'),
    /must be https/,
  );
  assert.throws(() => consoleDirFor(os.tmpdir()), /run `make console` first/);
});

test("only what the page loads is uploaded: no npm files, tests or local config.json", () => {
  const app = new App();
  const stack = new QuotaStack(app, 'Quota-assets', {
    stage: 'assets', arch: 'arm64', settings: stageSettings(cdkJson.context.stages, 'dev'), lambdaDir: '/nonexistent',
    consoleDir, code: () => lambda.Code.fromAsset(stubDir),
  });
  Template.fromStack(stack);
  const staged = fs.readdirSync(app.outdir)
    .map((d) => path.join(app.outdir, d))
    .filter((d) => fs.existsSync(path.join(d, 'index.html')) && fs.existsSync(path.join(d, 'app.js')));
  assert.equal(staged.length, 1);
  const files = (dir: string, prefix = ''): string[] => fs.readdirSync(dir, { withFileTypes: true })
    .flatMap((e) => (e.isDirectory() ? files(path.join(dir, e.name), `${prefix}${e.name}/`) : [`${prefix}${e.name}`]));
  const uploaded = files(staged[0]);
  for (const needed of ['index.html', 'app.js', 'style.css', 'lib/api.js', 'pages/tiers.js', 'vendor/preact.module.js', 'vendor/hooks.module.js', 'vendor/htm.module.js']) {
    assert.ok(uploaded.includes(needed), needed);
  }
  for (const file of uploaded) {
    assert.match(file, /^(index\.html|app\.js|style\.css|(lib|pages|vendor)\/[a-z]+(\.module)?\.js)$/, file);
  }
});

test('every partition key an IAM policy names is one the Rust store builds (shared/schema/keys.json)', () => {
  const keys = JSON.parse(fs.readFileSync(path.join(__dirname, '..', '..', '..', 'shared', 'schema', 'keys.json'), 'utf8'));
  const known = new Set<string>(keys.partitionKeys);
  const named: string[] = [];
  const walk = (node: unknown): void => {
    if (Array.isArray(node)) return node.forEach(walk);
    if (node && typeof node === 'object') {
      for (const [k, v] of Object.entries(node)) {
        if (k === 'dynamodb:LeadingKeys') named.push(...(Array.isArray(v) ? v : [v]));
        else walk(v);
      }
    }
  };
  for (const template of [dev, prod]) walk(template.findResources('AWS::IAM::Policy'));
  assert.ok(named.length > 20, `the policies name partition keys (${named.length})`);
  assert.deepEqual(named.filter((k) => !known.has(k)), [], 'a key the store never builds (renamed in keys.rs?)');
});
