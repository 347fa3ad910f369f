// Least privilege: each function gets only the actions and the partition
// keys (table or index) it uses, enforced with dynamodb:LeadingKeys. The key
// prefixes are the ones shared/src/store/keys.rs builds (a test holds them to it).
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { FunctionName } from './settings';

/** The partition keys (table or index) each function may touch; IAM enforces
 * them with dynamodb:LeadingKeys, so e.g. the check cannot write a tier. */
export const QUOTA_READ_KEYS: Record<FunctionName, string[]> = {
  tiers: ['CONFIG', 'VERSION#*'],
  assignments: ['CONFIG', 'VERSION#*', 'ASSIGNMENT#*', 'USER#*', 'ASSIGNMENTS', 'TIER#*'],
  // The canonical item, the user's copy, and the two listing index partitions.
  overrides: ['OVERRIDE#*', 'USER#*', 'OVERRIDES', 'OVERRIDES#*'],
  // The inspector also reads the user's groups' usage rows; the shadow
  // report lists the shadow overrides (the all-overrides index partition).
  // and the simulation replays the day leaderboard's rows (an index partition).
  users: ['CONFIG', 'VERSION#*', 'USER#*', 'GROUP#*', 'OVERRIDES', 'TOPD#*'],
  // The configuration (to prune replaced copies), the canonical items, the history,
  // and the version copy 0 (the slot of its change-log entry).
  prices: ['CONFIG', 'PRICE#*', 'PRICES', 'VERSION#*'],
  // The group in the configuration, its members' partition and its usage rows,
  // and the version copy 0 (the slot of its change-log entry).
  groups: ['CONFIG', 'GROUP#*', 'VERSION#*'],
  // The events function reads only the events table.
  events: [],
  // The notifier reads the events table's stream, no table.
  notifier: [],
  // The user's items, and the usage rows of the user's groups.
  check: ['CONFIG', 'VERSION#*', 'USER#*', 'GROUP#*'],
};
export const QUOTA_WRITE_KEYS: Record<FunctionName, string[]> = {
  tiers: ['CONFIG', 'VERSION#*'],
  assignments: ['CONFIG', 'VERSION#*', 'ASSIGNMENT#*', 'USER#*'],
  overrides: ['OVERRIDE#*', 'USER#*'],
  users: [],
  events: [],
  notifier: [],
  // The user's rows, the groups' usage rows (shards, pool holds, event flags).
  check: ['USER#*', 'GROUP#*'],
  // Puts and deletes of its three copies; the version bumps are granted apart.
  prices: ['CONFIG', 'PRICE#*', 'PRICES'],
  // The group (and its member count), its member items, each member's copy.
  groups: ['CONFIG', 'VERSION#*', 'GROUP#*', 'USER#*'],
};

/** Least privilege: only the actions and partitions each function uses.
 * Transactions are authorised per item action (Put/Update/Delete). */
export function grant(fn: FunctionName, role: lambda.Function, quota: dynamodb.Table, events: dynamodb.Table) {
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
      conditions: leading(['USER#*', 'TIER#*', 'TYPE#*', 'EVENTS#*', 'GROUP#*']),
    }));
    // Analytics: the leaderboard partitions of the quota table's indexes,
    // and the settled days' totals it keeps.
    role.addToRolePolicy(new iam.PolicyStatement({
      actions: ['dynamodb:Query'],
      resources: [`${quota.tableArn}/index/*`],
      conditions: leading(['TOPM#*', 'TOPD#*', 'GROUP#*']),
    }));
    role.addToRolePolicy(new iam.PolicyStatement({
      actions: ['dynamodb:GetItem', 'dynamodb:PutItem'],
      resources: [quota.tableArn],
      conditions: leading(['TOTAL#*']),
    }));
    return;
  }
  const reads = fn === 'overrides' || fn === 'prices'
    ? ['dynamodb:GetItem', 'dynamodb:Query']
    : ['dynamodb:GetItem', 'dynamodb:BatchGetItem', 'dynamodb:Query'];
  const listsByIndex = fn === 'assignments' || fn === 'overrides' || fn === 'users';
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
    // Prices are never updated: whole-item Puts and Deletes.
    prices: ['dynamodb:PutItem', 'dynamodb:DeleteItem'],
    groups: ['dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem'],
  };
  if (writes[fn].length > 0) {
    role.addToRolePolicy(new iam.PolicyStatement({
      actions: writes[fn],
      resources: [quota.tableArn],
      conditions: leading(QUOTA_WRITE_KEYS[fn]),
    }));
  }
  if (fn === 'prices') {
    // A price write bumps every configuration version copy.
    role.addToRolePolicy(new iam.PolicyStatement({
      actions: ['dynamodb:UpdateItem'],
      resources: [quota.tableArn],
      conditions: leading(['VERSION#*']),
    }));
  }
  if (fn === 'tiers') {
    // When it starts it aligns the version copies: read all (BatchGetItem,
    // granted with its reads), set the odd ones while copy 0 holds its value.
    role.addToRolePolicy(new iam.PolicyStatement({
      actions: ['dynamodb:ConditionCheckItem'],
      resources: [quota.tableArn],
      conditions: leading(['VERSION#*']),
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
    prices: ['AUDIT#*'],
    // A group's changes with the group, a membership's with the user.
    groups: ['AUDIT#*', 'USER#*'],
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
    // The inspector's recent events (by user); the shadow report's (by policy, an index).
    role.addToRolePolicy(new iam.PolicyStatement({
      actions: ['dynamodb:Query'],
      resources: [events.tableArn, `${events.tableArn}/index/*`],
      conditions: leading(['USER#*', 'SHADOW#*']),
    }));
  }
}
