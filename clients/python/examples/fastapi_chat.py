"""A small chat backend on FastAPI that asks the quota service about every
turn through the Python client, with a fake LLM (no network) that streams
its answer word by word.

    QUOTA_URL=http://127.0.0.1:8080 uvicorn fastapi_chat:app --port 9000
    curl -N localhost:9000/chat -H 'content-type: application/json' \\
      -d '{"userId": "erin", "email": "erin@uni.edu", "prompt": "tell me about quotas"}'

What each turn does:
- the check first (a model and token estimates, so a strict tier reserves
  their price); a blocked user gets 429 with the service's message;
- the LLM fails before its first word: the turn is released (its hold goes at
  once), and the user gets 502 and is charged nothing;
- the answer streams; when it ends, or when the user stops it (the
  generator is closed), the turn is recorded with the words produced, priced
  by the service from the tokens.
"""

from __future__ import annotations

import asyncio
import os
from typing import AsyncIterator, Optional

from fastapi import FastAPI
from fastapi.responses import JSONResponse, StreamingResponse
from pydantic import BaseModel

from quota_client import AsyncQuotaClient, AsyncTurn

MODEL = "anthropic/claude-haiku-4-5"
MAX_OUTPUT_TOKENS = 200


class LLMFailed(Exception):
    pass


class FakeLLM:
    """Streams a canned answer one word at a time; a prompt asking it to
    "fail" fails before the first word, as a provider error would."""

    async def stream(self, prompt: str) -> AsyncIterator[str]:
        if "fail" in prompt:
            raise LLMFailed("the model is overloaded")
        for word in f"You asked about {prompt}. Here is a short answer, word by word.".split():
            await asyncio.sleep(0)
            yield word + " "


class ChatRequest(BaseModel):
    userId: str
    prompt: str
    email: Optional[str] = None
    roles: list[str] = []


def tokens(text: str) -> int:
    """A stand-in tokenizer: one token a word."""
    return len(text.split())


async def reply(turn: AsyncTurn, prompt: str, first: str, rest: AsyncIterator[str]) -> AsyncIterator[str]:
    """Streams the answer and records the turn with what was produced,
    whether the stream ends or is closed early (the user went away)."""
    produced = 0
    try:
        # Counted when handed on: a word the user may have seen is paid for.
        produced = 1
        yield first
        async for word in rest:
            produced += 1
            yield word
    finally:
        # Shielded: a closed response's cancellation must not lose the record.
        await asyncio.shield(turn.record(input_tokens=tokens(prompt), output_tokens=produced))


def create_app(quota: AsyncQuotaClient, llm: Optional[FakeLLM] = None) -> FastAPI:
    app = FastAPI()
    llm = llm or FakeLLM()

    @app.post("/chat")
    async def chat(body: ChatRequest):
        turn = await quota.begin(body.userId, roles=body.roles, email=body.email, model=MODEL,
                                 estimated_input_tokens=tokens(body.prompt), max_output_tokens=MAX_OUTPUT_TOKENS)
        if not turn.allowed:
            return JSONResponse({"message": turn.message, "retryAfter": turn.retry_after}, status_code=429)
        stream = llm.stream(body.prompt).__aiter__()
        try:
            first = await stream.__anext__()
        except (LLMFailed, StopAsyncIteration) as e:
            await turn.release()  # nothing produced: nothing charged, the hold goes now
            return JSONResponse({"message": f"The model failed ({e}); you were not charged."}, status_code=502)
        return StreamingResponse(reply(turn, body.prompt, first, stream), media_type="text/plain")

    return app


app = create_app(AsyncQuotaClient.http(os.environ.get("QUOTA_URL", "http://127.0.0.1:8080")))
