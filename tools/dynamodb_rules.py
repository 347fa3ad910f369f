"""What real DynamoDB enforces and moto lets through, and what real DynamoDB
does that moto never does, as a WSGI layer around moto (tools/moto_serial.py
puts it in front of the backend).

Refused as DynamoDB refuses them (400 ValidationException, DynamoDB's words):
- an expression over 4 KB, or with more than 300 operators and functions;
- in a transaction, ExpressionAttributeNames / Values an item's expressions
  do not use (moto checks single operations, not transaction items);
- a Query's ExclusiveStartKey outside its key condition;
- a number with more than 38 significant digits;
- a Put whose index key attribute has another type than the index declares;
- an UpdateExpression that names one document path twice (SET and REMOVE of
  the same attribute: moto checks the condition first and answers that).

Done as DynamoDB does:
- a Query page that fills its Limit exactly carries a LastEvaluatedKey,
  even when nothing follows (moto leaves it out);
- ClientRequestToken makes a TransactWriteItems idempotent for 10 minutes:
  the same token and request answer the first call's answer without
  applying it again; the same token with another request is refused.

Injected on request (POST /_faults {"table", "fault", "times"}; "times": 0
clears that fault's rest), scoped to one table so that parallel tests on
their own tables never see each other's faults:
- "conflict" / "throttle": a TransactWriteItems naming the table is
  cancelled with TransactionConflict / ThrottlingError, unapplied;
- "lose_reply": a TransactWriteItems naming the table is applied, then
  answered 500 (the SDK retries it, as after a lost reply);
- "unprocessed": a BatchGetItem leaves the table's keys unprocessed.

Counted (GET /_counts?table=T answers {"counts": {operation: n}} for the
requests naming table T since its last reset, POST /_counts {"table": T}
resets them): so that a test outside Rust (a client library) can say what a
turn cost in DynamoDB requests.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
import threading
import time
from collections import OrderedDict
from decimal import Decimal, InvalidOperation
from typing import Any, Callable

MAX_EXPRESSION_BYTES = 4096
MAX_OPERATORS = 300
MAX_DIGITS = 38
TOKEN_WINDOW_SECONDS = 600

EXPRESSIONS = ("ConditionExpression", "UpdateExpression", "KeyConditionExpression", "FilterExpression",
               "ProjectionExpression")

_FUNCTIONS = re.compile(
    r"\b(attribute_exists|attribute_not_exists|attribute_type|begins_with|contains|size|if_not_exists|list_append)\s*\(",
    re.I)
_LOGICAL = re.compile(r"\b(AND|OR|NOT|BETWEEN|IN)\b")
_COMPARATOR = re.compile(r"<>|<=|>=|=|<|>")
_ARITHMETIC = re.compile(r"[+-]")


class Refused(Exception):
    """A request DynamoDB would refuse: the answer's type and message."""

    def __init__(self, kind: str, message: str, status: int = 400):
        super().__init__(message)
        self.kind, self.message, self.status = kind, message, status


def validation(message: str) -> Refused:
    return Refused("com.amazon.coral.validate#ValidationException", message)


def operators(name: str, expression: str) -> int:
    """Operators and functions as DynamoDB counts them: in an update, its
    arithmetic and functions (an assignment's `=` is no operator); in a
    condition, comparators, logical operators and functions."""
    text = re.sub(r"[#:][A-Za-z0-9_]+", "x", expression)
    functions = len(_FUNCTIONS.findall(text))
    if name == "UpdateExpression":
        return functions + len(_ARITHMETIC.findall(text))
    return functions + len(_LOGICAL.findall(text)) + len(_COMPARATOR.findall(text))


def check_expressions(op: dict[str, Any]) -> None:
    for name in EXPRESSIONS:
        expression = op.get(name)
        if not isinstance(expression, str):
            continue
        size = len(expression.encode())
        if size > MAX_EXPRESSION_BYTES:
            raise validation(
                f"Invalid {name}: Expression size has exceeded the maximum allowed size; expression size: {size}")
        count = operators(name, expression)
        if count > MAX_OPERATORS:
            raise validation(
                f"Invalid {name}: The expression contains too many operators; operator count: {count}")


def update_paths(expression: str, names: dict[str, str]) -> list[str]:
    """The document paths an UpdateExpression writes, names resolved."""
    paths = []
    for clause in re.split(r"\b(?=SET\b|REMOVE\b|ADD\b|DELETE\b)", expression, flags=re.I):
        action, _, rest = clause.strip().partition(" ")
        if action.upper() not in ("SET", "REMOVE", "ADD", "DELETE"):
            continue
        depth, start, items = 0, 0, []
        for i, ch in enumerate(rest):
            depth += {"(": 1, ")": -1}.get(ch, 0)
            if ch == "," and depth == 0:
                items.append(rest[start:i])
                start = i + 1
        items.append(rest[start:])
        for item in items:
            target = item.split("=")[0] if action.upper() == "SET" else item.strip().split(" ")[0]
            path = re.sub(r"#[A-Za-z0-9_]+", lambda m: names.get(m.group(0), m.group(0)), target.strip())
            if path:
                paths.append(path)
    return paths


def check_overlap(op: dict[str, Any]) -> None:
    expression = op.get("UpdateExpression")
    if not isinstance(expression, str):
        return
    paths = update_paths(expression, op.get("ExpressionAttributeNames") or {})
    for i, a in enumerate(paths):
        for b in paths[i + 1:]:
            if a == b or b.startswith(a + ".") or a.startswith(b + ".") or b.startswith(a + "[") or a.startswith(b + "["):
                raise validation("Invalid UpdateExpression: Two document paths overlap with each other; must remove "
                                 f"or rewrite one of these paths; path one: [{a}], path two: [{b}]")


def check_unused(op: dict[str, Any]) -> None:
    """What a transaction item's expressions name and do not use."""
    used = " ".join(op.get(name, "") for name in EXPRESSIONS if isinstance(op.get(name), str))
    tokens = set(re.findall(r"[#:][A-Za-z0-9_]+", used))
    for field, label in (("ExpressionAttributeNames", "ExpressionAttributeNames"),
                         ("ExpressionAttributeValues", "ExpressionAttributeValues")):
        unused = sorted(k for k in (op.get(field) or {}) if k not in tokens)
        if unused:
            raise validation(f"Value provided in {label} unused in expressions: keys: {{{', '.join(unused)}}}")


def numbers(value: Any) -> list[str]:
    """Every N (and NS) text inside an attribute value or a map of them."""
    found: list[str] = []
    if isinstance(value, dict):
        for k, v in value.items():
            if k == "N" and isinstance(v, str):
                found.append(v)
            elif k == "NS" and isinstance(v, list):
                found += [x for x in v if isinstance(x, str)]
            else:
                found += numbers(v)
    elif isinstance(value, list):
        for v in value:
            found += numbers(v)
    return found


def check_numbers(body: dict[str, Any]) -> None:
    for text in numbers(body):
        try:
            digits = "".join(map(str, Decimal(text).as_tuple().digits)).strip("0")
        except InvalidOperation:
            continue  # moto's own validation speaks for malformed numbers
        if len(digits) > MAX_DIGITS:
            raise validation("Attempting to store more than 38 significant digits in a Number")


def type_of(value: dict[str, Any]) -> str:
    return next(iter(value)) if isinstance(value, dict) and value else "?"


def check_index_key_types(table: Any, item: dict[str, Any]) -> None:
    declared = {a["AttributeName"]: a["AttributeType"] for a in getattr(table, "attr", []) or []}
    for index in list(getattr(table, "global_indexes", [])) + list(getattr(table, "indexes", [])):
        for key in index.schema:
            name = key["AttributeName"]
            if name in item and name in declared and type_of(item[name]) != declared[name]:
                raise validation(
                    "One or more parameter values were invalid: Type mismatch for Index Key "
                    f"{name} Expected: {declared[name]} Actual: {type_of(item[name])} IndexName: {index.name}")


def _compare(value: dict[str, Any], other: dict[str, Any]) -> int:
    if "N" in value and "N" in other:
        a, b = Decimal(value["N"]), Decimal(other["N"])
    else:
        a, b = next(iter(value.values())), next(iter(other.values()))
    return (a > b) - (a < b)


def check_start_key(table: Any, body: dict[str, Any]) -> None:
    """A Query's ExclusiveStartKey must lie inside its key condition: the
    partition's `=`, and the sort key's range, prefix or bound."""
    start = body.get("ExclusiveStartKey")
    condition = body.get("KeyConditionExpression")
    if not start or not isinstance(condition, str):
        return
    names = body.get("ExpressionAttributeNames") or {}
    values = body.get("ExpressionAttributeValues") or {}
    name = lambda token: names.get(token, token)  # noqa: E731
    outside = validation("The provided starting key is outside query boundaries based on provided conditions")
    for between in re.finditer(r"([#\w]+)\s+BETWEEN\s+(:\w+)\s+AND\s+(:\w+)", condition, re.I):
        got = start.get(name(between[1]))
        if got and (_compare(got, values[between[2]]) < 0 or _compare(got, values[between[3]]) > 0):
            raise outside
    for begins in re.finditer(r"begins_with\s*\(\s*([#\w]+)\s*,\s*(:\w+)\s*\)", condition, re.I):
        got, prefix = start.get(name(begins[1])), values[begins[2]]
        if got and not str(next(iter(got.values()))).startswith(str(next(iter(prefix.values())))):
            raise outside
    for compare in re.finditer(r"([#\w]+)\s*(<=|>=|=|<|>)\s*(:\w+)", condition):
        got, op, bound = start.get(name(compare[1])), compare[2], values[compare[3]]
        if got is None:
            continue
        c = _compare(got, bound)
        if not {"=": c == 0, "<": c < 0, "<=": c <= 0, ">": c > 0, ">=": c >= 0}[op]:
            raise outside


class Faults:
    """Faults a test asked for, by table: (kind, times left)."""

    def __init__(self) -> None:
        self._by_table: dict[str, list[list[Any]]] = {}
        self._lock = threading.Lock()

    def add(self, table: str, kind: str, times: int) -> None:
        """`times` more of `kind` on `table`; 0 clears the ones left."""
        with self._lock:
            if times == 0:
                self._by_table[table] = [e for e in self._by_table.get(table, []) if e[0] != kind]
                return
            self._by_table.setdefault(table, []).append([kind, times])

    def take(self, tables: set[str], kinds: tuple[str, ...]) -> tuple[str, str] | None:
        with self._lock:
            for table in tables:
                for entry in self._by_table.get(table, []):
                    if entry[0] in kinds and entry[1] > 0:
                        entry[1] -= 1
                        return table, entry[0]
        return None


class Tokens:
    """ClientRequestToken: request digest and answer, kept 10 minutes (and
    at most MAX_TOKENS of them, oldest first out, so a long `make run` stays
    flat in memory and each request does constant work)."""

    MAX_TOKENS = 20_000

    def __init__(self) -> None:
        self._seen: OrderedDict[str, tuple[float, str, int, list[tuple[str, str]], bytes]] = OrderedDict()

    def _expire(self) -> None:
        now = time.monotonic()
        while self._seen:
            oldest = next(iter(self._seen.values()))
            if now - oldest[0] <= TOKEN_WINDOW_SECONDS and len(self._seen) <= self.MAX_TOKENS:
                break
            self._seen.popitem(last=False)

    def get(self, token: str) -> tuple[float, str, int, list[tuple[str, str]], bytes] | None:
        self._expire()
        return self._seen.get(token)

    def put(self, token: str, digest: str, status: int, headers: list[tuple[str, str]], body: bytes) -> None:
        self._seen[token] = (time.monotonic(), digest, status, headers, body)
        self._seen.move_to_end(token)
        self._expire()

    def __len__(self) -> int:
        return len(self._seen)


class Counts:
    """Requests per table and operation; the newest 1,000 tables are kept."""

    MAX_TABLES = 1000

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._by_table: OrderedDict[str, dict[str, int]] = OrderedDict()

    def add(self, tables: set[str], operation: str) -> None:
        with self._lock:
            for table in tables:
                counts = self._by_table.setdefault(table, {})
                counts[operation] = counts.get(operation, 0) + 1
                self._by_table.move_to_end(table)
            while len(self._by_table) > self.MAX_TABLES:
                self._by_table.popitem(last=False)

    def of(self, table: str) -> dict[str, int]:
        with self._lock:
            return dict(self._by_table.get(table, {}))

    def reset(self, table: str) -> None:
        with self._lock:
            self._by_table.pop(table, None)


def tables_named(operation: str, body: dict[str, Any]) -> set[str]:
    if operation == "TransactWriteItems":
        return {next(iter(e.values())).get("TableName") for e in body.get("TransactItems", []) if e}
    if operation == "BatchGetItem":
        return set((body.get("RequestItems") or {}).keys())
    return {body["TableName"]} if "TableName" in body else set()


def layer(backend: Callable[..., Any], find_table: Callable[[str], Any]) -> Callable[..., Any]:
    """The WSGI app that applies the rules above in front of `backend`
    (which must apply one request at a time, as moto_serial's lock does)."""
    faults = Faults()
    tokens = Tokens()
    counts = Counts()

    def answer(start_response: Any, status: int, body: dict[str, Any]) -> list[bytes]:
        data = json.dumps(body).encode()
        reason = {200: "OK", 400: "Bad Request", 500: "Internal Server Error"}.get(status, "Error")
        start_response(f"{status} {reason}", [("Content-Type", "application/x-amz-json-1.0"),
                                             ("Content-Length", str(len(data)))])
        return [data]

    def call(environ: dict[str, Any], raw: bytes) -> tuple[int, list[tuple[str, str]], bytes]:
        environ["wsgi.input"] = io.BytesIO(raw)
        environ["CONTENT_LENGTH"] = str(len(raw))
        captured: dict[str, Any] = {}

        def start(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> None:
            captured["status"], captured["headers"] = int(status.split()[0]), headers

        data = b"".join(backend(environ, start))
        return captured["status"], captured["headers"], data

    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        length = int(environ.get("CONTENT_LENGTH") or 0)
        raw = environ["wsgi.input"].read(length) if length else b""
        if environ.get("PATH_INFO") == "/_faults" and environ.get("REQUEST_METHOD") == "POST":
            spec = json.loads(raw)
            faults.add(spec["table"], spec["fault"], int(spec.get("times", 1)))
            return answer(start_response, 200, {"ok": True})
        if environ.get("PATH_INFO") == "/_counts":
            if environ.get("REQUEST_METHOD") == "POST":
                counts.reset(json.loads(raw)["table"])
                return answer(start_response, 200, {"ok": True})
            query = dict(part.split("=", 1) for part in environ.get("QUERY_STRING", "").split("&") if "=" in part)
            return answer(start_response, 200, {"counts": counts.of(query.get("table", ""))})
        target = environ.get("HTTP_X_AMZ_TARGET", "")
        if not target.startswith("DynamoDB_20120810."):
            status, headers, data = call(environ, raw)
            start_response(f"{status} X", headers)
            return [data]
        operation = target.split(".", 1)[1]
        try:
            body = json.loads(raw or b"{}")
        except ValueError:
            body = {}
        try:
            check_numbers(body)
            if operation == "TransactWriteItems":
                for entry in body.get("TransactItems", []):
                    for op in entry.values():
                        check_expressions(op)
                        check_overlap(op)
                        check_unused(op)
                        table = find_table(op.get("TableName", ""))
                        if "Item" in op and table is not None:
                            check_index_key_types(table, op["Item"])
            else:
                check_expressions(body)
                check_overlap(body)
                table = find_table(body.get("TableName", ""))
                if operation == "PutItem" and table is not None:
                    check_index_key_types(table, body.get("Item") or {})
                if operation == "Query" and table is not None:
                    check_start_key(table, body)
        except Refused as r:
            return answer(start_response, r.status, {"__type": r.kind, "message": r.message})

        named = tables_named(operation, body)
        counts.add(named, operation)
        token = body.get("ClientRequestToken") if operation == "TransactWriteItems" else None
        digest = hashlib.sha256(json.dumps({k: v for k, v in body.items() if k != "ClientRequestToken"},
                                           sort_keys=True).encode()).hexdigest()
        if token:
            seen = tokens.get(token)
            if seen and seen[1] != digest:
                return answer(start_response, 400, {
                    "__type": "com.amazonaws.dynamodb.v20120810#IdempotentParameterMismatchException",
                    "message": "The request uses the same client token as a previous, but non-identical request."})
            if seen and seen[2] == 200:
                start_response("200 OK", seen[3])
                return [seen[4]]
        if operation == "TransactWriteItems":
            fault = faults.take(named, ("conflict", "throttle"))
            if fault:
                code = {"conflict": "TransactionConflict", "throttle": "ThrottlingError"}[fault[1]]
                reasons = [{"Code": code} if i == 0 else {"Code": "None"}
                           for i, _ in enumerate(body.get("TransactItems", []))]
                return answer(start_response, 400, {
                    "__type": "com.amazonaws.dynamodb.v20120810#TransactionCanceledException",
                    "message": f"Transaction cancelled, please refer cancellation reasons for specific reasons [{code}]",
                    "CancellationReasons": reasons})
        if operation == "BatchGetItem":
            fault = faults.take(named, ("unprocessed",))
            if fault:
                items = body.get("RequestItems") or {}
                other = {t: v for t, v in items.items() if t != fault[0]}
                result: dict[str, Any] = {"Responses": {}, "UnprocessedKeys": {fault[0]: items[fault[0]]}}
                if other:
                    status, headers, data = call(environ, json.dumps({**body, "RequestItems": other}).encode())
                    result["Responses"] = json.loads(data).get("Responses", {})
                return answer(start_response, 200, result)

        status, headers, data = call(environ, raw)
        if operation == "TransactWriteItems" and token and status == 200:
            tokens.put(token, digest, status, headers, data)
        if operation == "TransactWriteItems" and status == 200 and faults.take(named, ("lose_reply",)):
            return answer(start_response, 500, {"__type": "com.amazonaws.dynamodb.v20120810#InternalServerError",
                                                "message": "Internal server error (injected: the reply was lost)"})
        if operation == "Query" and status == 200:
            data = full_page_key(find_table(body.get("TableName", "")), body, data)
            headers = [(k, str(len(data)) if k.lower() == "content-length" else v) for k, v in headers]
        start_response(f"{status} X", headers)
        return [data]

    return app


def full_page_key(table: Any, body: dict[str, Any], data: bytes) -> bytes:
    """A page that fills its Limit carries the last item's key, as DynamoDB's do."""
    limit = body.get("Limit")
    if table is None or not isinstance(limit, int):
        return data
    page = json.loads(data)
    items = page.get("Items") or []
    if "LastEvaluatedKey" in page or len(items) != limit or not items:
        return data
    last = items[-1]
    names = [table.hash_key_attr, table.range_key_attr]
    if body.get("IndexName"):
        for index in list(table.global_indexes) + list(table.indexes):
            if index.name == body["IndexName"]:
                names += [k["AttributeName"] for k in index.schema]
    page["LastEvaluatedKey"] = {n: last[n] for n in names if n and n in last}
    return json.dumps(page).encode()
