"""Every deployable arm64 zip, run once as a Lambda container would run it.

Each function's `bootstrap` (from target/lambda-arm64/<fn>/bootstrap.zip) runs
under qemu-aarch64 against a minimal Lambda Runtime API served here, with one
of its own events/ fixtures, on tables the caller seeded in the emulator
(tools/arm64-smoke.sh does all of that). A function passes when it answers the
invocation as expected; a crash, an init error, an invocation error or no
answer within the timeout fails. Usage:

    arm64_smoke.py DIR   (DIR: where the bootstraps are unpacked)
"""

import json
import os
import subprocess
import sys
import threading
import time
import zipfile
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
# One fixture per function and what its answer must show. The admin fixtures
# carry a local admin token (expires 2100); check's direct invoke is a check.
CASES = {
    "tiers": ("tiers/list.json", lambda a: a.get("statusCode") == 200),
    "assignments": ("assignments/list.json", lambda a: a.get("statusCode") == 200),
    "overrides": ("overrides/list.json", lambda a: a.get("statusCode") == 200),
    "users": ("users/inspect.json", lambda a: a.get("statusCode") == 200),
    "events": ("events/list.json", lambda a: a.get("statusCode") == 200),
    "check": ("check/check.json", lambda a: a.get("decision") in ("allow", "warn", "block")),
    "notifier": ("notifier/stream-insert.json", lambda a: a.get("batchItemFailures") == []),
}
TIMEOUT_SECONDS = 60


class RuntimeApi(BaseHTTPRequestHandler):
    """Hands out one event, then keeps the next /next waiting. (testkit's
    runtime_api is the Rust one the container tests drive; this one needs no
    Rust caller, so the smoke adds no build of its own.)"""

    event: bytes = b""
    handed = False
    answer: dict = {}
    done = threading.Event()

    def log_message(self, *args):
        pass

    def do_GET(self):
        if self.path != "/2018-06-01/runtime/invocation/next":
            return self.send_error(404)
        cls = type(self)
        if cls.handed:
            cls.done.wait(TIMEOUT_SECONDS)
            return self.send_error(503)
        cls.handed = True
        self.send_response(200)
        self.send_header("Lambda-Runtime-Aws-Request-Id", "smoke-1")
        self.send_header("Lambda-Runtime-Deadline-Ms", "99999999999999")
        self.send_header("Lambda-Runtime-Invoked-Function-Arn", "arn:aws:lambda:us-east-1:123456789012:function:smoke")
        self.send_header("Lambda-Runtime-Trace-Id", "Root=1-00000000-000000000000000000000000")
        self.send_header("Content-Length", str(len(cls.event)))
        self.end_headers()
        self.wfile.write(cls.event)

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        cls = type(self)
        if self.path.endswith("/response"):
            cls.answer = {"response": json.loads(body or b"null")}
        else:  # /invocation/<id>/error or /init/error
            cls.answer = {"error": self.path + ": " + body.decode(errors="replace")}
        self.send_response(202)
        self.end_headers()
        cls.done.set()


def run(function: str, directory: str) -> str | None:
    """Runs one function's bootstrap; returns why it failed, or None."""
    fixture, expected = CASES[function]
    zip_path = os.path.join(ROOT, "target", "lambda-arm64", function, "bootstrap.zip")
    if not os.path.exists(zip_path):
        return f"no {zip_path}: run make build ARCH=arm64 first"
    target = os.path.join(directory, function)
    zipfile.ZipFile(zip_path).extract("bootstrap", target)
    bootstrap = os.path.join(target, "bootstrap")
    with open(bootstrap, "rb") as f:
        head = f.read(20)
    # ELF, 64-bit, little-endian, e_machine 183 (AArch64).
    if head[:5] != b"\x7fELF\x02" or int.from_bytes(head[18:20], "little") != 183:
        return "its bootstrap is not an aarch64 ELF"
    os.chmod(bootstrap, 0o755)

    handler = type("Api", (RuntimeApi,), {"answer": {}, "handed": False, "done": threading.Event()})
    with open(os.path.join(ROOT, "events", fixture), "rb") as f:
        handler.event = f.read()
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    env = dict(os.environ, AWS_LAMBDA_RUNTIME_API=f"127.0.0.1:{server.server_address[1]}",
               AWS_LAMBDA_FUNCTION_NAME=function, AWS_LAMBDA_FUNCTION_MEMORY_SIZE="128",
               AWS_LAMBDA_FUNCTION_VERSION="$LATEST", AWS_LAMBDA_LOG_LEVEL="WARN", EVENT_BUS_NAME="default")
    process = subprocess.Popen(["qemu-aarch64", "-L", "/usr/aarch64-linux-gnu", bootstrap], env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + TIMEOUT_SECONDS
    try:
        # Until it answers, exits (a failed start says why on stderr) or times out.
        while not handler.done.wait(0.2) and process.poll() is None and time.monotonic() < deadline:
            pass
    finally:
        process.kill()
        _, stderr = process.communicate()
        handler.done.set()
        server.shutdown()
    answer = handler.answer
    if not answer:
        tail = stderr.decode(errors="replace").strip().splitlines()[-3:]
        return f"no answer (exit status {process.returncode}): {' | '.join(tail)}"
    if "error" in answer:
        return answer["error"][:300]
    if not expected(answer["response"]):
        return f"unexpected answer to {fixture}: {json.dumps(answer['response'])[:300]}"
    return None


def main() -> int:
    directory = sys.argv[1]
    failed = 0
    for function in CASES:
        why = run(function, directory)
        print(f"{function:12} {'ok' if why is None else 'FAILED: ' + why}")
        failed += why is not None
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
