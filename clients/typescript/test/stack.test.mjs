// The client against the real local stack (tools/clients-test.sh runs it
// through tools/with-stack.sh, as `make test` does); skipped without STACK_URL.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { QuotaClient, UnpricedModel } from '../dist/index.js';

const { STACK_URL, AWS_ENDPOINT_URL_DYNAMODB: EMULATOR, STACK_QUOTA_TABLE: TABLE, ADMIN_TOKEN } = process.env;
const skip = !(STACK_URL && EMULATOR && TABLE) && 'needs the local stack (tools/clients-test.sh)';
// The emulator answers one request at a time: generous timeouts, never production's.
const OPTIONS = { checkTimeoutMs: 30000, recordTimeoutMs: 30000, recordDeadlineMs: 60000, log: () => {} };
const unique = (name) => `${name}-${Math.random().toString(16).slice(2, 10)}`;

const counts = async () => (await (await fetch(`${EMULATOR}/_counts?table=${TABLE}`)).json()).counts;
const resetCounts = () => fetch(`${EMULATOR}/_counts`, { method: 'POST', body: JSON.stringify({ table: TABLE }) });
const admin = async (path) => (await fetch(`${STACK_URL}/api/admin/quota${path}`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } })).json();
const post = (path, body) => fetch(STACK_URL + path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

test('a priced turn costs the raw calls\' DynamoDB requests, and the cost is exact', { skip }, async () => {
  const client = QuotaClient.http(STACK_URL, OPTIONS);
  await client.begin({ userId: unique('warm'), email: 'w@example.com' });
  const raw = unique('raw');
  await resetCounts();
  await (await post('/api/quota/check', { userId: raw, email: 'r@example.com', requestId: 'r1' })).text();
  await (await post('/api/quota/usage', { userId: raw, email: 'r@example.com', requestId: 'r1', model: 'openai/gpt-4o', inputTokens: 1000, outputTokens: 500 })).text();
  const rawCounts = await counts();
  await resetCounts();
  const turn = await client.begin({ userId: unique('ts'), email: 'ts@example.com', model: 'openai/gpt-4o' });
  assert.equal(turn.allowed, true, turn.message);
  const answer = await turn.record({ inputTokens: 1000, outputTokens: 500 });
  assert.deepEqual(await counts(), rawCounts);
  assert.deepEqual([answer.cost, answer.costSource], ['0.0075', 'price']);
});

test('a strict turn reserves, and a throw inside withTurn releases it', { skip }, async () => {
  const client = QuotaClient.http(STACK_URL, OPTIONS);
  const turn = await client.begin({ userId: 'dora', estimatedCost: '0.10' });
  assert.equal(turn.reservation.amount, '0.10');
  const settled = await turn.record({ cost: '0.08' });
  assert.equal(settled.duplicate, false);
  let held;
  await assert.rejects(client.withTurn({ userId: 'dora', estimatedCost: '0.10' }, async (t) => {
    held = t;
    throw new Error('the LLM call failed');
  }));
  assert.equal(held.released.released, true);
  const open = (await admin('/users/dora')).reservations.map((r) => r.requestId);
  assert.ok(!open.includes(held.requestId) && !open.includes(turn.requestId), open.join(','));
});

test('a blocked user is told why and when; an unpriced model is refused', { skip }, async () => {
  const client = QuotaClient.http(STACK_URL, OPTIONS);
  const turn = await client.begin({ userId: 'carol' });
  assert.equal(turn.allowed, false);
  assert.equal(turn.blockedBy.scope, 'user');
  assert.ok(turn.retryAfter > 0);
  await assert.rejects(client.begin({ userId: unique('u'), model: 'nobody/priced-this' }), UnpricedModel);
});
