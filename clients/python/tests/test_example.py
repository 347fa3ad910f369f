"""The example chat backend (examples/fastapi_chat.py) against the local
stack: a streamed turn recorded, a blocked user, a failed LLM call released,
a stream the user stopped recorded with what was produced."""

import asyncio
import json
import os
import sys
import unittest
import urllib.request
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "examples"))

STACK = os.environ.get("STACK_URL")
OPTIONS = {"check_timeout": 30, "record_timeout": 30, "record_deadline": 60}


def admin(path):
    request = urllib.request.Request(STACK + "/api/admin/quota" + path,
                                     headers={"authorization": "Bearer " + os.environ["ADMIN_TOKEN"]})
    with urllib.request.urlopen(request, timeout=30) as r:
        return json.loads(r.read())


@unittest.skipUnless(STACK, "needs the local stack: run through tools/with-stack.sh (make test)")
class ExampleChat(unittest.TestCase):
    def setUp(self):
        from fastapi.testclient import TestClient
        from fastapi_chat import create_app
        from quota_client import AsyncQuotaClient

        self.quota = AsyncQuotaClient.http(STACK, **OPTIONS)
        self.http = TestClient(create_app(self.quota))

    def test_a_streamed_answer_is_recorded_with_its_tokens(self):
        user = f"erin-{uuid.uuid4().hex[:8]}"
        with self.http.stream("POST", "/chat", json={"userId": user, "email": "erin@example.com",
                                                      "prompt": "quotas"}) as r:
            self.assertEqual(r.status_code, 200)
            text = "".join(r.iter_text())
        self.assertTrue(text.startswith("You asked about quotas."))
        usage = admin(f"/users/{user}?email=erin@example.com")["usage"]["monthly"]
        self.assertEqual((usage["requests"], usage["outputTokens"]), (1, len(text.split())))

    def test_a_blocked_user_gets_429_with_the_reason(self):
        r = self.http.post("/chat", json={"userId": "carol", "prompt": "hello"})
        self.assertEqual(r.status_code, 429)
        self.assertIn("Daily limit", r.json()["message"])

    def test_a_failed_llm_call_is_released_and_charges_nothing(self):
        before = admin("/users/dora")["usage"]["monthly"]["requests"]
        r = self.http.post("/chat", json={"userId": "dora", "prompt": "please fail"})
        self.assertEqual(r.status_code, 502)
        inspected = admin("/users/dora")
        self.assertEqual(inspected["usage"]["monthly"]["requests"], before)
        self.assertEqual(inspected["reservations"], [], "the strict hold went at once")

    def test_a_stopped_stream_is_recorded_with_what_was_produced(self):
        from fastapi_chat import FakeLLM, reply

        async def stop_after_three():
            user = f"sam-{uuid.uuid4().hex[:8]}"
            turn = await self.quota.begin(user, email="sam@example.com", model="anthropic/claude-haiku-4-5")
            stream = FakeLLM().stream("a long question").__aiter__()
            first = await stream.__anext__()
            answer = reply(turn, "a long question", first, stream)
            words = [await answer.__anext__() for _ in range(3)]
            await answer.aclose()  # what the server does when the user goes away
            return user, words, turn

        user, words, turn = asyncio.run(stop_after_three())
        self.assertEqual(len(words), 3)
        self.assertEqual(turn.recorded.state.windows[0].usage, turn.recorded.cost, "one request, this cost")
        usage = admin(f"/users/{user}?email=sam@example.com")["usage"]["monthly"]
        self.assertEqual((usage["requests"], usage["outputTokens"], usage["inputTokens"]), (1, 3, 3))


if __name__ == "__main__":
    unittest.main()
