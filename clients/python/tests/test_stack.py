"""The client against the real local stack (`make test` runs it through
tools/with-stack.sh: every function, the emulator, make run's demo data).
Without STACK_URL (outside that script) these tests are skipped."""

import asyncio
import json
import os
import unittest
import urllib.request
import uuid
from decimal import Decimal

from quota_client import (AsyncQuotaClient, HttpTransport, IdempotencyConflict, QuotaClient, TransportFailure,
                          UnpricedModel)

STACK = os.environ.get("STACK_URL")
EMULATOR = os.environ.get("AWS_ENDPOINT_URL_DYNAMODB")
TABLE = os.environ.get("STACK_QUOTA_TABLE")
# The emulator answers one request at a time: generous timeouts, never production's.
OPTIONS = {"check_timeout": 30, "record_timeout": 30, "record_deadline": 60}


def admin(path):
    request = urllib.request.Request(STACK + "/api/admin/quota" + path,
                                     headers={"authorization": "Bearer " + os.environ["ADMIN_TOKEN"]})
    with urllib.request.urlopen(request, timeout=30) as r:
        return json.loads(r.read())


def emulator(path, body=None):
    data = None if body is None else json.dumps(body).encode()
    with urllib.request.urlopen(urllib.request.Request(EMULATOR + path, data=data,
                                                       method="POST" if data else "GET"), timeout=30) as r:
        return json.loads(r.read())


def counts():
    return emulator(f"/_counts?table={TABLE}")["counts"]


def reset_counts():
    emulator("/_counts", {"table": TABLE})


def unique(name):
    return f"{name}-{uuid.uuid4().hex[:8]}"


def requests_of(user, roles=""):
    usage = admin(f"/users/{user}?roles={roles}")["usage"]
    return usage["monthly"]["requests"]


@unittest.skipUnless(STACK and EMULATOR and TABLE, "needs the local stack: run through tools/with-stack.sh (make test)")
class Stack(unittest.TestCase):
    def setUp(self):
        self.client = QuotaClient.http(STACK, **OPTIONS)

    def test_a_standard_turn_priced_by_the_service_costs_what_the_raw_calls_cost(self):
        # Warm the container's configuration, then one raw turn and one client turn, counted.
        self.client.begin(unique("warm"), email="w@example.com")
        raw_user, client_user = unique("raw"), unique("ann")
        reset_counts()
        for path, body in (("/api/quota/check", {"userId": raw_user, "email": "r@example.com", "requestId": "r1"}),
                           ("/api/quota/usage", {"userId": raw_user, "email": "r@example.com", "requestId": "r1",
                                                 "model": "openai/gpt-4o", "inputTokens": 1000, "outputTokens": 500})):
            request = urllib.request.Request(STACK + path, data=json.dumps(body).encode(), method="POST",
                                             headers={"content-type": "application/json"})
            urllib.request.urlopen(request, timeout=30).read()
        raw = counts()
        reset_counts()
        turn = self.client.begin(client_user, email="ann@example.com", model="openai/gpt-4o")
        self.assertTrue(turn.allowed, turn.message)
        answer = turn.record(input_tokens=1000, output_tokens=500)
        self.assertEqual(counts(), raw, "a client turn costs the raw calls' DynamoDB requests")
        self.assertEqual(raw.get("TransactWriteItems"), 1)
        # 1,000 input at 2.50 and 500 output at 10 a million, exactly.
        self.assertEqual((answer.cost, answer.cost_source), (Decimal("0.0075"), "price"))
        self.assertEqual(answer.pricing.price_model, "openai/gpt-4o")
        premium = [w for w in answer.state.windows if w.limit_id == "premium"]
        self.assertEqual([(w.metric, w.usage, w.limit) for w in premium], [("requests", 1, 20)])

    def test_a_strict_turn_reserves_and_its_record_settles(self):
        turn = self.client.begin("dora", estimated_cost="0.10", estimated_tokens=500)
        self.assertTrue(turn.allowed, turn.message)
        self.assertEqual((turn.reservation.amount, turn.reservation.request_id), (Decimal("0.10"), turn.request_id))
        answer = turn.record(cost="0.08", input_tokens=300, output_tokens=100)
        self.assertFalse(answer.duplicate)
        held = [r["requestId"] for r in admin("/users/dora")["reservations"]]
        self.assertNotIn(turn.request_id, held, "settled")

    def test_a_failed_llm_call_releases_the_hold(self):
        with self.assertRaises(RuntimeError):
            with self.client.begin("dora", estimated_cost="0.10") as turn:
                self.assertIsNotNone(turn.reservation)
                raise RuntimeError("the LLM call failed")
        self.assertTrue(turn.released.released)
        self.assertNotIn(turn.request_id, [r["requestId"] for r in admin("/users/dora")["reservations"]])

    def test_a_record_whose_reply_was_lost_is_retried_and_counted_once(self):
        class LosesFirstReply(HttpTransport):
            lost = False

            def call(self, action, body, timeout):
                reply = super().call(action, body, timeout)
                if action == "record" and not self.lost:
                    self.lost = True
                    raise TransportFailure("the reply was lost")
                return reply

        user = unique("lost")
        client = QuotaClient(LosesFirstReply(STACK), backoff=0.01, **OPTIONS)
        turn = client.begin(user, email="l@example.com")
        answer = turn.record(cost="0.05")
        self.assertTrue(answer.duplicate, "the retry found the first recording")
        self.assertEqual(requests_of(user), 1)
        with self.assertRaises(IdempotencyConflict):
            client.record(user, turn.request_id, cost="0.06")

    def test_a_blocked_user_is_told_why_and_when(self):
        turn = self.client.begin("carol")
        self.assertFalse(turn.allowed)
        self.assertEqual((turn.decision, turn.blocked_by.scope, turn.blocked_by.period), ("block", "user", "daily"))
        self.assertGreater(turn.retry_after, 0)
        with self.assertRaises(UnpricedModel):
            self.client.begin(unique("u"), model="nobody/priced-this")

    def test_a_store_fault_answers_degraded_by_the_services_policy(self):
        emulator("/_faults", {"table": TABLE, "fault": "unprocessed", "times": 100})
        try:
            turn = self.client.begin(unique("deg"))
        finally:
            emulator("/_faults", {"table": TABLE, "fault": "unprocessed", "times": 0})
        self.assertTrue(turn.degraded)
        self.assertTrue(turn.allowed, "the local stack fails open")

    def test_the_asyncio_client_runs_the_same_turn(self):
        async def turn():
            client = AsyncQuotaClient.http(STACK, **OPTIONS)
            t = await client.begin(unique("async"), email="a@example.com", model="anthropic/claude-haiku-4-5")
            return t, await t.record(input_tokens=2000, cached_input_tokens=10000, output_tokens=100)
        t, answer = asyncio.run(turn())
        self.assertTrue(t.allowed)
        # 2,000 at 1, 10,000 cached at 0.10, 100 out at 5 a million.
        self.assertEqual(answer.cost, Decimal("0.0035"))


if __name__ == "__main__":
    unittest.main()
