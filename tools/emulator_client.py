"""A moto_serial.py server in a child process and a boto3 client on it, for
the emulator's own test and bench (tools/tests, tools/bench_emulator.py)."""

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import boto3

TOOLS = Path(__file__).resolve().parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Emulator:
    """`python moto_serial.py` (or stock moto_server with stock=True) on a free port."""

    def __init__(self, stock: bool = False):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        if stock:
            cmd = [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(self.port)]
        else:
            cmd = [sys.executable, str(TOOLS / "moto_serial.py"), "127.0.0.1", str(self.port)]
        self.process = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _ in range(200):
            try:
                urllib.request.urlopen(f"{self.url}/moto-api/", timeout=1)
                break
            except OSError:
                if self.process.poll() is not None:
                    raise RuntimeError("the emulator exited at start")
                time.sleep(0.05)
        else:
            raise RuntimeError("the emulator did not start within 10 s")

    def client(self, service: str = "dynamodb"):
        return boto3.client(
            service,
            endpoint_url=self.url,
            region_name="us-east-1",
            aws_access_key_id="local",
            aws_secret_access_key="local",
        )

    def rss_mb(self) -> float:
        with open(f"/proc/{self.process.pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
        raise RuntimeError("no VmRSS")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def create_table(client, name: str, stream: bool = False) -> None:
    """The quota table's key shape (pk, sk strings)."""
    extra = {"StreamSpecification": {"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"}} if stream else {}
    client.create_table(
        TableName=name,
        BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}, {"AttributeName": "sk", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        **extra,
    )


def record(client, table: str, user: str, request: str, expected_requests: int) -> None:
    """The transaction a guarded record sends (shared/src/store/usage.rs):
    ADD to the month row if its request count is as expected, and Put the
    request's idempotency marker if it does not exist yet."""
    condition = "#r = :expected" if expected_requests else "(attribute_not_exists(#r) OR #r = :expected)"
    client.transact_write_items(
        TransactItems=[
            {
                "Update": {
                    "TableName": table,
                    "Key": {"pk": {"S": f"USER#{user}"}, "sk": {"S": "USAGE#2026-11"}},
                    "UpdateExpression": "ADD #c :c, #r :one, #dc :c, #dr :one SET #ttl = :ttl",
                    "ConditionExpression": condition,
                    "ExpressionAttributeNames": {
                        "#c": "cost",
                        "#r": "requests",
                        "#dc": "d28cost",
                        "#dr": "d28requests",
                        "#ttl": "ttl",
                    },
                    "ExpressionAttributeValues": {
                        ":c": {"N": "0.0123"},
                        ":one": {"N": "1"},
                        ":expected": {"N": str(expected_requests)},
                        ":ttl": {"N": "1830000000"},
                    },
                }
            },
            {
                "Put": {
                    "TableName": table,
                    "Item": {
                        "pk": {"S": f"USER#{user}"},
                        "sk": {"S": f"REQUEST#{request}"},
                        "cost": {"N": "0.0123"},
                        "ttl": {"N": "1830000000"},
                    },
                    "ConditionExpression": "attribute_not_exists(pk)",
                }
            },
        ]
    )


def fill(client, table: str, count: int) -> None:
    """`count` unrelated items (other users' markers), 25 per BatchWriteItem."""
    for start in range(0, count, 25):
        batch = [
            {"PutRequest": {"Item": {"pk": {"S": f"USER#filler{i % 1000}"}, "sk": {"S": f"REQUEST#r{i}"}, "cost": {"N": "1"}}}}
            for i in range(start, min(start + 25, count))
        ]
        pending = {table: batch}
        while pending:
            pending = client.batch_write_item(RequestItems=pending).get("UnprocessedItems") or {}
