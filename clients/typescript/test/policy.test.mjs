// The client's own rules against a scripted transport (no service).
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { IdempotencyConflict, QuotaClient, QuotaUnavailable, TransportFailure, UnpricedModel } from '../dist/index.js';

const ALLOWED = { allowed: true, decision: 'allow', message: 'Within quota.', warningLevel: 'none', windows: [],
  degraded: false, matchedBy: 'default_tier', tier: null, quotaContext: 'qc1.x' };
const HELD = { ...ALLOWED, reservation: { requestId: 'r', amount: '0.40', expiresAt: '2026-12-07T10:10:00.000Z' } };
const RECORDED = { ...ALLOWED, requestId: 'r', duplicate: false, judged: true, crossed: [], cost: '0.0231', costSource: 'price' };
const RELEASED = { requestId: 'r', released: true, reason: 'released', amount: '0.40' };

function script(...replies) {
  const calls = [];
  return {
    calls,
    async call(action, body, timeoutMs) {
      calls.push({ action, body, timeoutMs });
      const next = replies.shift();
      if (next instanceof Error) throw next;
      return next;
    },
  };
}
const quiet = { backoffMs: 1, log: () => {} };

test('a turn checks, then records with the same requestId and context', async () => {
  const t = script({ status: 200, body: ALLOWED }, { status: 200, body: RECORDED });
  const turn = await new QuotaClient(t, quiet).begin({ userId: 'u1', roles: ['Faculty'], model: 'openai/gpt-4o', estimatedCost: '0.05' });
  assert.equal(turn.allowed, true);
  const answer = await turn.record({ inputTokens: 1200, outputTokens: 300 });
  const [check, record] = t.calls;
  assert.equal(check.timeoutMs, 300, 'the default check timeout');
  assert.equal(check.body.estimatedCost, '0.05');
  assert.equal(record.body.requestId, check.body.requestId);
  assert.deepEqual([record.body.quotaContext, record.body.model, record.body.cost], ['qc1.x', 'openai/gpt-4o', undefined]);
  assert.equal(answer.cost, '0.0231', 'money stays a string');
});

test('a failed check is decided by the policy; a block is an answer', async () => {
  for (const failure of [new TransportFailure('timeout'), { status: 502, body: {} }]) {
    for (const failOpen of [true, false]) {
      const turn = await new QuotaClient(script(failure), { ...quiet, failOpen }).begin({ userId: 'u1' });
      assert.deepEqual([turn.allowed, turn.degraded], [failOpen, true]);
    }
  }
  const blocked = { ...ALLOWED, allowed: false, decision: 'block', retryAfterSeconds: 3600 };
  const turn = await new QuotaClient(script({ status: 429, body: blocked }), quiet).begin({ userId: 'u1' });
  assert.deepEqual([turn.allowed, turn.degraded, turn.retryAfter], [false, false, 3600]);
});

test('records retry with the same body, bounded, and never after a conflict', async () => {
  const t = script(new TransportFailure('lost'), { status: 503, body: {} }, { status: 200, body: RECORDED });
  await new QuotaClient(t, quiet).record('u1', 'r', { cost: '0.01' });
  assert.equal(t.calls.length, 3);
  assert.ok(t.calls.every((c) => JSON.stringify(c.body) === JSON.stringify(t.calls[0].body)));
  const conflict = script({ status: 409, body: { type: 'urn:quota:problem:idempotency-conflict', status: 409, title: 'Idempotency conflict', detail: 'x' } });
  await assert.rejects(new QuotaClient(conflict, quiet).record('u1', 'r', { cost: '2' }), IdempotencyConflict);
  assert.equal(conflict.calls.length, 1);
  const unpriced = script({ status: 422, body: { type: 'urn:quota:problem:unpriced-model', status: 422 } });
  await assert.rejects(new QuotaClient(unpriced, quiet).record('u1', 'r', { model: 'x', inputTokens: 1 }), UnpricedModel);
  const down = script(...Array(5).fill(new TransportFailure('down')));
  await assert.rejects(new QuotaClient(down, quiet).record('u1', 'r', { cost: '0.01' }), QuotaUnavailable);
  assert.equal(down.calls.length, 5, 'at most 5 attempts');
});

test('money is never a JavaScript number', async () => {
  const c = new QuotaClient(script(), quiet);
  await assert.rejects(c.record('u1', 'r', { cost: 0.1 }), TypeError);
  await assert.rejects(c.begin({ userId: 'u1', estimatedCost: 0.1 }), TypeError);
  await assert.rejects(c.record('u1', 'r', {}), TypeError, 'cost or model');
});

test('withTurn releases the hold when the work throws or records nothing', async () => {
  const logged = [];
  const t = script({ status: 200, body: HELD }, { status: 200, body: RELEASED });
  const c = new QuotaClient(t, { ...quiet, log: (m) => logged.push(m) });
  await assert.rejects(c.withTurn({ userId: 'u1', estimatedCost: '0.40' }, async () => { throw new Error('LLM failed'); }), /LLM failed/);
  assert.deepEqual(t.calls.map((x) => x.action), ['check', 'release']);
  assert.match(logged[0], /released/);
  const t2 = script({ status: 200, body: HELD }, { status: 200, body: RECORDED });
  await new QuotaClient(t2, quiet).withTurn({ userId: 'u1' }, (turn) => turn.record({ cost: '0.35' }));
  assert.deepEqual(t2.calls.map((x) => x.action), ['check', 'record'], 'recorded: nothing to release');
});

test('the Lambda transport sends the action and reads a problem object', async () => {
  const { LambdaTransport } = await import('../dist/index.js');
  const sent = [];
  const fake = (payload, error) => ({
    async send(command) {
      sent.push(command);
      return { Payload: new TextEncoder().encode(JSON.stringify(payload)), FunctionError: error };
    },
  });
  // A stand-in for the SDK's InvokeCommand, so the test needs no AWS SDK.
  const transport = new LambdaTransport('quota-dev-check', fake(ALLOWED));
  transport.sdk = { InvokeCommand: class { constructor(input) { this.input = input; } } };
  const turn = await new QuotaClient(transport, quiet).begin({ userId: 'u1' });
  assert.equal(turn.allowed, true);
  const input = sent[0].input;
  assert.equal(input.FunctionName, 'quota-dev-check');
  assert.equal(JSON.parse(new TextDecoder().decode(input.Payload)).action, 'check');
  const problem = new LambdaTransport('f', fake({ type: 'urn:quota:problem:idempotency-conflict', status: 409, title: 't' }));
  problem.sdk = transport.sdk;
  assert.equal((await problem.call('record', {}, 1000)).status, 409);
  const crashed = new LambdaTransport('f', fake({ errorMessage: 'boom' }, 'Unhandled'));
  crashed.sdk = transport.sdk;
  assert.equal((await crashed.call('record', {}, 1000)).status, 500);
});
