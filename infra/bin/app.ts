#!/usr/bin/env node
// The CDK app: one stack per stage, chosen with `-c stage=dev|prod`, built for
// `-c arch=arm64|x86_64` from the zips `make build ARCH=...` leaves in
// target/lambda-<arch> (the architecture is in the path, so they cannot mix).
import * as path from 'path';
import { App } from 'aws-cdk-lib';
import { QuotaStack, stageSettings, Arch, lambdaDirFor } from '../lib/quota-stack';
import { consoleDirFor } from '../lib/console';

function main(): void {
  const app = new App();
  const stage = String(app.node.tryGetContext('stage') ?? 'dev');
  const arch = String(app.node.tryGetContext('arch') ?? 'arm64') as Arch;
  const settings = stageSettings(app.node.tryGetContext('stages'), stage);
  new QuotaStack(app, `Quota-${stage}`, {
    stage,
    arch,
    settings,
    lambdaDir: lambdaDirFor(arch, path.join(__dirname, '..', '..', '..', 'target')),
    consoleDir: consoleDirFor(path.join(__dirname, '..', '..', '..', 'console')),
    env: { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION },
  });
}

// A missing build or setting is one plain line (what to run or set), not a stack trace.
try {
  main();
} catch (e) {
  console.error(e instanceof Error ? e.message : String(e));
  process.exit(1);
}
