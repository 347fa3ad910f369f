// The two tables, from the same definitions the Rust repository uses
// (shared/schema/tables.json): on-demand, point-in-time recovery, TTL,
// retained in production; the events table's stream feeds the notifier.
import { RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import { tableDefinitions } from './settings';

export function addTables(
  stack: Stack,
  name: (s: string) => string,
  removal: RemovalPolicy,
  prod: boolean,
): Record<string, dynamodb.Table> {
  const tables: Record<string, dynamodb.Table> = {};
    for (const def of tableDefinitions()) {
      const table = new dynamodb.Table(stack, `${def.logicalName}Table`, {
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
          projectionType: index.projection === 'INCLUDE' ? dynamodb.ProjectionType.INCLUDE : dynamodb.ProjectionType.ALL,
          nonKeyAttributes: index.projection === 'INCLUDE' ? index.nonKeyAttributes : undefined,
        });
      }
      tables[def.logicalName] = table;
    }
  return tables;
}
