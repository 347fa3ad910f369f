// Alarms ops expect (function errors and throttles, table throttling, the
// failure mode answering, malformed items skipped) and the dashboard of the
// metrics the functions print as Embedded Metric Format (shared/src/emf.rs).
import { Duration, Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { FunctionName, FUNCTIONS } from './settings';

export function addAlarms(
stack: Stack,
name: (s: string) => string,
functions: Record<FunctionName, lambda.Function>,
quota: dynamodb.Table,
events: dynamodb.Table,
) {
  const period = Duration.minutes(5);
  for (const fn of FUNCTIONS) {
    const f = functions[fn];
    new cloudwatch.Alarm(stack, `${fn}ErrorsAlarm`, {
      alarmName: name(`${fn}-errors`),
      metric: f.metricErrors({ period }),
      threshold: 1,
      evaluationPeriods: 1,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    new cloudwatch.Alarm(stack, `${fn}ThrottlesAlarm`, {
      alarmName: name(`${fn}-throttles`),
      metric: f.metricThrottles({ period }),
      threshold: 1,
      evaluationPeriods: 1,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
  }
  const O = dynamodb.Operation;
  for (const [label, table] of [['quota', quota], ['events', events]] as const) {
    new cloudwatch.Alarm(stack, `${label}ThrottledAlarm`, {
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
  new cloudwatch.Alarm(stack, 'DegradedAnswersAlarm', {
    alarmName: name('degraded-answers'),
    alarmDescription: 'Checks answered by the failure mode: the quota store was unreadable',
    metric: degraded,
    threshold: 1,
    evaluationPeriods: 1,
    treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
  });
  new cloudwatch.Alarm(stack, 'ConfigItemsSkippedAlarm', {
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
  const dashboard = new cloudwatch.Dashboard(stack, 'Dashboard', { dashboardName: name('dashboard') });
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
        functions.check.metricDuration({ period, statistic: 'p50' }),
        functions.check.metricDuration({ period, statistic: 'p99' }),
      ],
      width: 12,
    }),
    new cloudwatch.GraphWidget({
      title: 'Function errors',
      left: FUNCTIONS.map((fn) => functions[fn].metricErrors({ period })),
      width: 12,
    }),
  );
}
