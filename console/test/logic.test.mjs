// The console's pure logic, without a browser (node --test; `make console-test`
// runs it before the browser tests): the inspector's colour thresholds, what
// an edit sends, and how form text becomes the API's values.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { level } from '../lib/windows.js';
import { changes, fieldValue, present, sumMoney } from '../lib/format.js';
import { claimsOf } from '../lib/auth.js';

test('a window is ok below the soft limit, soft from it, high from 90 %, over from 100 %', () => {
  const soft = 75;
  assert.equal(level(null, soft), 'none');
  assert.equal(level(0, soft), 'ok');
  assert.equal(level(74.99, soft), 'ok');
  assert.equal(level(75, soft), 'soft');
  assert.equal(level(89.99, soft), 'soft');
  assert.equal(level(90, soft), 'high');
  assert.equal(level(99.99, soft), 'high');
  assert.equal(level(100, soft), 'over');
  assert.equal(level(250, soft), 'over');
  // A soft limit above 90 % never hides the 90 % colour.
  assert.equal(level(92, 95), 'high');
});

test('money stays decimal text, counts become integers, anything else goes as typed for the API to judge', () => {
  assert.equal(fieldValue('money', ' 2.50 '), '2.50');
  assert.equal(fieldValue('money', '0.1'), '0.1');
  assert.equal(typeof fieldValue('money', '12345678901234567890.123456'), 'string');
  assert.equal(fieldValue('count', '1500'), 1500);
  assert.equal(fieldValue('count', '1.5'), '1.5');
  assert.equal(fieldValue('count', '-3'), '-3');
  assert.equal(fieldValue('text', '   '), null);
});

const FIELDS = [['tierName', 'text'], ['dailyCostLimit', 'money'], ['dailyTokenLimit', 'count'], ['enabled', 'bool']];

test('an edit sends only what changed, and a cleared field as null', () => {
  const original = { tierName: 'Basic', dailyCostLimit: '2.00', dailyTokenLimit: 5000, enabled: true };
  const same = { tierName: 'Basic', dailyCostLimit: '2.00', dailyTokenLimit: '5000', enabled: true };
  assert.deepEqual(changes(FIELDS, same, original), {});
  assert.deepEqual(
    changes(FIELDS, { ...same, dailyCostLimit: '', dailyTokenLimit: '6000', enabled: false }, original),
    { dailyCostLimit: null, dailyTokenLimit: 6000, enabled: false },
  );
  assert.deepEqual(changes(FIELDS, { ...same, tierName: 'Gold' }, { ...original, dailyCostLimit: null }), {
    tierName: 'Gold',
    dailyCostLimit: '2.00',
  });
});

test('a create sends the fields that are set', () => {
  assert.deepEqual(present(FIELDS, { tierName: 'Gold', dailyCostLimit: '', dailyTokenLimit: '10', enabled: false }), {
    tierName: 'Gold',
    dailyTokenLimit: 10,
    enabled: false,
  });
});

test("a token's claims are read without padding, and junk is no token", () => {
  const part = (o) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const token = `${part({ alg: 'HS256' })}.${part({ sub: 'ädmin', exp: 1 })}.sig`;
  assert.deepEqual(claimsOf(token), { sub: 'ädmin', exp: 1 });
  assert.equal(claimsOf('not a token'), null);
  assert.equal(claimsOf(''), null);
});

test('held amounts add up exactly, at the finest scale given', () => {
  assert.equal(sumMoney(['0.10', '0.20']), '0.30');
  assert.equal(sumMoney(['0.1', '0.2']), '0.3');
  assert.equal(sumMoney(['2.5', '0.10', '3']), '5.60');
  assert.equal(sumMoney(['0.0000000001', '999999999.9999999999']), '1000000000.0000000000');
  assert.equal(sumMoney(['1', '2']), '3');
  assert.equal(sumMoney(['-0.50', '0.20']), '-0.30');
  assert.equal(sumMoney([]), '0');
});

test('model limits round-trip through the form and an edit sends them only when changed', async () => {
  const { modelLimitValues, modelLimitsBody, withModelLimits } = await import('../lib/limits.js');
  const stored = [{ limitId: 'premium', models: ['acme/big*', 'acme/huge'], monthlyCostLimit: '12.50', dailyCostLimit: null,
    monthlyTokenLimit: null, dailyTokenLimit: null, monthlyRequestLimit: null, dailyRequestLimit: 3, suggestModel: 'acme/small' }];
  const entries = modelLimitValues(stored);
  assert.equal(entries[0].models, 'acme/big*, acme/huge');
  assert.deepEqual(modelLimitsBody(entries), [{ limitId: 'premium', models: ['acme/big*', 'acme/huge'],
    monthlyCostLimit: '12.50', dailyRequestLimit: 3, suggestModel: 'acme/small' }], 'money stays a string');
  assert.deepEqual(withModelLimits({}, { modelLimits: entries }, { modelLimits: stored }), {}, 'unchanged: not sent');
  entries[0].dailyRequestLimit = '5';
  assert.equal(withModelLimits({}, { modelLimits: entries }, { modelLimits: stored }).modelLimits[0].dailyRequestLimit, 5);
  assert.deepEqual(withModelLimits({}, { modelLimits: [] }, { modelLimits: stored }), { modelLimits: [] }, 'removing all sends []');
  assert.deepEqual(withModelLimits({}, { modelLimits: [] }, null), {}, 'a create without entries sends none');
});
