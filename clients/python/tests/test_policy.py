"""The client's own rules, against a scripted transport (no service): the
failure policy, the retries, what a turn sends, money as Decimal."""

import asyncio
import io
import json
import unittest
from decimal import Decimal

from quota_client import (AsyncQuotaClient, IdempotencyConflict, InvalidRequest, LambdaTransport, QuotaClient,
                          QuotaUnavailable, Reply, TransportFailure, UnpricedModel)

ALLOWED = {"allowed": True, "decision": "allow", "message": "Within quota.", "warningLevel": "none",
           "windows": [{"period": "daily", "metric": "cost", "usage": "0.10", "limit": "2.00", "remaining": "1.90",
                        "percentageUsed": 5, "resetsAt": "2026-12-08T00:00:00Z"}],
           "degraded": False, "matchedBy": "default_tier", "quotaContext": "qc1.x"}
HELD = {**ALLOWED, "reservation": {"requestId": "r", "amount": "0.40", "expiresAt": "2026-12-07T10:10:00.000Z"}}
RECORDED = {**ALLOWED, "requestId": "r", "duplicate": False, "judged": True, "crossed": [], "cost": "0.0231",
            "costSource": "price", "pricing": {"priceId": "p1", "priceModel": "*", "input": "0.0036",
                                               "cachedInput": "0.015", "cacheWrite": "0", "output": "0.0045",
                                               "request": "0", "total": "0.0231", "longContext": False}}
RELEASED = {"released": True, "reason": "released", "amount": "0.40"}
CONFLICT = {"type": "urn:quota:problem:idempotency-conflict", "title": "Idempotency conflict", "status": 409,
            "detail": "request id r was recorded with cost 1"}


class Script:
    """Answers each call with the next scripted reply (or raises it)."""

    def __init__(self, *replies):
        self.replies = list(replies)
        self.calls = []

    def call(self, action, body, timeout):
        self.calls.append((action, body, timeout))
        reply = self.replies.pop(0)
        if isinstance(reply, Exception):
            raise reply
        return reply


def client(script, **policy):
    return QuotaClient(script, backoff=0.001, **policy)


class Policy(unittest.TestCase):
    def test_a_turn_checks_then_records_with_the_same_request_id_and_context(self):
        script = Script(Reply(200, ALLOWED), Reply(200, RECORDED))
        turn = client(script).begin("u1", roles=["Faculty"], model="openai/gpt-4o", estimated_cost=Decimal("0.05"))
        self.assertTrue(turn.allowed)
        self.assertEqual(turn.windows[0].usage, Decimal("0.10"))
        answer = turn.record(input_tokens=1200, cached_input_tokens=50000, output_tokens=300)
        (_, check, timeout), (_, record, _) = script.calls
        self.assertEqual(timeout, 0.3, "the default check timeout")
        self.assertEqual(check["estimatedCost"], "0.05", "money goes as a decimal string")
        self.assertEqual(record["requestId"], check["requestId"])
        self.assertEqual((record["quotaContext"], record["model"], record["roles"]), ("qc1.x", "openai/gpt-4o", ["Faculty"]))
        self.assertNotIn("cost", record, "priced by the service")
        self.assertEqual((answer.cost, answer.pricing.cached_input), (Decimal("0.0231"), Decimal("0.015")))

    def test_a_check_that_fails_is_decided_by_the_policy(self):
        for failure in (TransportFailure("timed out"), Reply(502, {}), Reply(500, {"title": "Internal"})):
            for fail_open in (True, False):
                turn = client(Script(failure), fail_open=fail_open).begin("u1")
                self.assertEqual((turn.allowed, turn.degraded), (fail_open, True), failure)
                self.assertEqual(turn.decision, "allow" if fail_open else "block")
        # The service's own fail-closed 503 and a 429 block are answers, not failures.
        blocked = {**ALLOWED, "allowed": False, "decision": "block", "retryAfterSeconds": 3600}
        turn = client(Script(Reply(429, blocked, 3600))).begin("u1")
        self.assertEqual((turn.allowed, turn.degraded, turn.retry_after), (False, False, 3600))

    def test_a_record_is_retried_with_the_same_body_and_never_after_a_conflict(self):
        script = Script(TransportFailure("timed out"), Reply(503, {"title": "Service unavailable"}), Reply(200, RECORDED))
        answer = client(script).record("u1", "r", cost="0.01")
        self.assertEqual(answer.request_id, "r")
        self.assertEqual(len(script.calls), 3)
        self.assertTrue(all(c[1] == script.calls[0][1] for c in script.calls), "the same requestId every time")
        conflict = Script(Reply(409, CONFLICT))
        with self.assertRaises(IdempotencyConflict) as raised:
            client(conflict).record("u1", "r", cost="2")
        self.assertEqual((len(conflict.calls), raised.exception.detail), (1, CONFLICT["detail"]))
        bad = Script(Reply(400, {"type": "urn:quota:problem:invalid-input", "status": 400, "title": "Invalid input",
                                 "errors": [{"field": "cost", "message": "must not be negative"}]}))
        with self.assertRaises(InvalidRequest) as raised:
            client(bad).record("u1", "r", cost="1")
        self.assertEqual(raised.exception.errors, {"cost": "must not be negative"})
        unpriced = Script(Reply(422, {"type": "urn:quota:problem:unpriced-model", "status": 422}))
        with self.assertRaises(UnpricedModel):
            client(unpriced).record("u1", "r", model="x", input_tokens=1)

    def test_retries_are_bounded_by_attempts(self):
        script = Script(*[TransportFailure("down")] * 5)
        with self.assertRaises(QuotaUnavailable):
            client(script).record("u1", "r", cost="0.01")
        self.assertEqual(len(script.calls), 5, "at most 5 attempts by default")
        script = Script(*[TransportFailure("down")] * 5)
        with self.assertRaises(QuotaUnavailable):
            QuotaClient(script, backoff=0.05, record_deadline=0.1).record("u1", "r", cost="0.01")
        self.assertLess(len(script.calls), 5, "within the deadline")

    def test_money_is_never_a_float(self):
        with self.assertRaises(TypeError):
            client(Script()).record("u1", "r", cost=0.1)
        with self.assertRaises(TypeError):
            client(Script()).begin("u1", estimated_cost=0.1)
        with self.assertRaises(ValueError):
            client(Script()).record("u1", "r")

    def test_leaving_a_turn_without_a_record_releases_its_hold(self):
        with self.assertLogs("quota_client", "INFO") as logs:
            script = Script(Reply(200, HELD), Reply(200, RELEASED))
            with client(script).begin("u1", estimated_cost="0.40") as turn:
                pass
            self.assertEqual(turn.released.amount, Decimal("0.40"))
            self.assertEqual(script.calls[1][0], "release")
        self.assertIn("no record", "\n".join(logs.output))
        script = Script(Reply(200, HELD), Reply(200, RELEASED))
        with self.assertRaises(RuntimeError):
            with client(script).begin("u1") as turn:
                raise RuntimeError("the LLM call failed")
        self.assertEqual([c[0] for c in script.calls], ["check", "release"])
        # A recorded turn, or one that holds nothing, sends nothing more.
        script = Script(Reply(200, HELD), Reply(200, RECORDED))
        with client(script).begin("u1") as turn:
            turn.record(cost="0.35")
        script2 = Script(Reply(200, ALLOWED))
        with client(script2).begin("u1"):
            pass
        self.assertEqual((len(script.calls), len(script2.calls)), (2, 1))


class Async(unittest.TestCase):
    def test_the_asyncio_twin_has_the_same_turn(self):
        async def run():
            script = Script(Reply(200, HELD), Reply(200, RELEASED), Reply(200, ALLOWED), Reply(200, RECORDED))
            c = AsyncQuotaClient(script, backoff=0.001)
            with self.assertRaises(ValueError):
                async with await c.begin("u1") as turn:
                    raise ValueError("cancelled")
            self.assertEqual(turn.released.reason, "released")
            turn = await c.begin("u1", model="m")
            answer = await turn.record(input_tokens=10)
            return script.calls, answer
        calls, answer = asyncio.run(run())
        self.assertEqual([c[0] for c in calls], ["check", "release", "check", "record"])
        self.assertEqual(answer.cost_source, "price")

    def test_a_slow_check_times_out_into_the_policy(self):
        class Slow:
            def call(self, action, body, timeout):
                import time
                time.sleep(0.2)
                return Reply(200, ALLOWED)

        async def run():
            return await AsyncQuotaClient(Slow(), check_timeout=0.05, fail_open=False).begin("u1")
        turn = asyncio.run(run())
        self.assertEqual((turn.allowed, turn.degraded), (False, True))


class Lambda(unittest.TestCase):
    def test_the_direct_invoke_sends_the_action_and_reads_problems(self):
        class FakeLambda:
            def __init__(self, payload, error=None):
                self.payload, self.error, self.sent = payload, error, []

            def invoke(self, FunctionName, Payload):
                self.sent.append((FunctionName, json.loads(Payload)))
                out = {"StatusCode": 200, "Payload": io.BytesIO(json.dumps(self.payload).encode())}
                if self.error:
                    out["FunctionError"] = self.error
                return out

        fake = FakeLambda(ALLOWED)
        turn = QuotaClient.lambda_("quota-dev-check", client=fake).begin("u1")
        self.assertTrue(turn.allowed)
        self.assertEqual(fake.sent[0][0], "quota-dev-check")
        self.assertEqual(fake.sent[0][1]["action"], "check")
        problem = LambdaTransport("f", FakeLambda(CONFLICT)).call("record", {}, 1)
        self.assertEqual(problem.status, 409)
        crashed = LambdaTransport("f", FakeLambda({"errorMessage": "boom"}, "Unhandled")).call("record", {}, 1)
        self.assertEqual(crashed.status, 500)


if __name__ == "__main__":
    unittest.main()
