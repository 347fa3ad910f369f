"""moto's server mode, made fit for long local runs of the quota service.

Three changes to stock `moto_server` (moto is pinned in requirements.txt;
tools/tests/test_moto_serial.py checks each change against that version):

1. Every request is applied one at a time. moto_server answers on several
   threads but does not lock its DynamoDB backend, so two concurrent `ADD`s
   on one item can lose an update (seen in shared/tests: 40 parallel records
   summed to 0.39 instead of 0.40). Real DynamoDB applies each write,
   condition and transaction atomically; one lock around each request gives
   the emulator the same guarantee while clients still connect concurrently.

2. moto's instance tracker is emptied after each request. Every moto model
   object (each stored item, each copy of one) is appended to a class-level
   list that only the moto dashboard reads, and never removed: memory grows
   with every write and never comes back (2.1 GB after ~2,700 records, then
   the OOM killer). Nothing in the DynamoDB emulation reads that list.

3. A transaction backs up only the items it touches. Stock moto deep-copies
   every table a transaction names as its rollback backup, so a record costs
   time and memory in proportion to the table's size. Here the touched items
   (and the stream's length) are saved before the transaction and put back
   if it is cancelled, which is what the table copy was for.

4. Numbers are added and subtracted as DynamoDB does, exactly. moto keeps a
   sum below 1e-6 as `1E-7` and then fails to add to it (`int("1E-7")`), so
   one record of 0.0000001 froze a user's usage row for good.

5. What real DynamoDB enforces and moto does not, and the faults a test can
   inject (throttling and conflicts inside transactions, lost replies,
   unprocessed keys): tools/dynamodb_rules.py, in front of the backend.

usage: python moto_serial.py HOST PORT
"""

import copy
import sys
import threading
from pathlib import Path
from typing import Any

from decimal import Context, Decimal, localcontext

from werkzeug.serving import run_simple
from moto.core.model_instances import reset_model_data
from moto.dynamodb.models import dynamodb_backends
from moto.dynamodb.models.dynamo_type import DDBType
from moto.dynamodb import models as dynamodb_models
from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.models.dynamo_type import DynamoType
from moto.dynamodb.models.table import Table
from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)

sys.path.insert(0, str(Path(__file__).resolve().parent))
import dynamodb_rules  # noqa: E402


class _TableCopyIsItemBackup:
    """Stands in for the `copy` module inside moto.dynamodb.models: while a
    transaction runs, the "copy" of a whole table is the table itself (the
    touched items are backed up instead, see `_transact_write_items`)."""

    in_transaction = False

    def __getattr__(self, name: str) -> Any:
        return getattr(copy, name)

    def deepcopy(self, value: Any, memo: Any = None) -> Any:
        if self.in_transaction and isinstance(value, Table):
            return value
        return copy.deepcopy(value, memo)


_copy_shim = _TableCopyIsItemBackup()
_stock_transact_write_items = DynamoDBBackend.transact_write_items


def _item_key(table: Table, op_type: str, op: dict[str, Any]) -> tuple[DynamoType, DynamoType | None] | None:
    attrs = op.get("Item") if op_type == "Put" else op.get("Key")
    if not isinstance(attrs, dict) or table.hash_key_attr not in attrs:
        return None  # moto refuses the request itself
    range_attr = table.range_key_attr
    if range_attr is not None and range_attr not in attrs:
        return None
    return DynamoType(attrs[table.hash_key_attr]), (DynamoType(attrs[range_attr]) if range_attr else None)


def _transact_write_items(self: DynamoDBBackend, transact_items: list[dict[str, Any]]) -> None:
    items: list[tuple[Table, DynamoType, DynamoType | None, bool, Any]] = []
    streams: dict[int, tuple[Any, int]] = {}
    seen: set[tuple[int, str, str]] = set()
    for entry in transact_items if isinstance(transact_items, list) else []:
        if not isinstance(entry, dict) or not entry:
            continue
        op_type, op = next(iter(entry.items()))
        table = self.tables.get(op.get("TableName")) if isinstance(op, dict) else None
        if table is None:
            continue
        key = _item_key(table, op_type, op)
        if key is None:
            continue
        hash_value, range_value = key
        marker = (id(table), repr(hash_value), repr(range_value))
        if marker in seen:
            continue  # moto cancels the transaction; the first backup is the original
        seen.add(marker)
        had_hash = hash_value in table.items
        items.append((table, hash_value, range_value, had_hash, copy.deepcopy(table.get_item(hash_value, range_value))))
        if table.stream_shard is not None:
            streams.setdefault(id(table), (table.stream_shard, len(table.stream_shard.items)))
    _copy_shim.in_transaction = True
    try:
        _stock_transact_write_items(self, transact_items)
    except BaseException:
        for table, hash_value, range_value, had_hash, old in reversed(items):
            _restore(table, hash_value, range_value, had_hash, old)
        for shard, length in streams.values():
            del shard.items[length:]
        raise
    finally:
        _copy_shim.in_transaction = False


def _restore(table: Table, hash_value: DynamoType, range_value: DynamoType | None, had_hash: bool, old: Any) -> None:
    if range_value is None:
        if old is None:
            table.items.pop(hash_value, None)
        else:
            table.items[hash_value] = old
        return
    bucket = table.items[hash_value]
    if old is None:
        bucket.pop(range_value, None)
        if not bucket and not had_hash:
            del table.items[hash_value]
    else:
        bucket[range_value] = old


def _number(value: DynamoType) -> Decimal:
    return Decimal(value.value)


def _text(number: Decimal) -> str:
    """A number as DynamoDB answers it: plain digits, no exponent, no
    trailing zeros after the point."""
    text = format(number, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


# DynamoDB keeps 38 significant digits (Python's default context keeps 28).
_EXACT = Context(prec=38)


def _add(self: DynamoType, other: DynamoType) -> DynamoType:
    if self.type != other.type:
        raise TypeError("Different types of operandi is not allowed.")
    if not self.is_number():
        return _stock_add(self, other)
    with localcontext(_EXACT):
        return DynamoType({DDBType.NUMBER: _text(_number(self) + _number(other))})


def _sub(self: DynamoType, other: DynamoType) -> DynamoType:
    if self.type != other.type or self.type != DDBType.NUMBER:
        return _stock_sub(self, other)
    with localcontext(_EXACT):
        return DynamoType({DDBType.NUMBER: _text(_number(self) - _number(other))})


_stock_add = DynamoType.__add__
_stock_sub = DynamoType.__sub__


def install() -> None:
    """Applies changes 3 and 4 (and is idempotent); 1, 2 and 5 live in `app`."""
    dynamodb_models.copy = _copy_shim
    DynamoDBBackend.transact_write_items = _transact_write_items
    DynamoType.__add__ = _add
    DynamoType.__sub__ = _sub


def find_table(name: str) -> Any:
    for regions in dynamodb_backends.values():
        for backend in regions.values():
            if name in backend.tables:
                return backend.tables[name]
    return None


def app() -> Any:
    install()
    backend_app = dynamodb_rules.layer(DomainDispatcherApplication(create_backend_app), find_table)
    lock = threading.Lock()

    def serial(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        with lock:
            try:
                # Drain the body inside the lock: the backend may work lazily.
                return [b"".join(backend_app(environ, start_response))]
            finally:
                reset_model_data()

    return serial


def main() -> None:
    host, port = sys.argv[1], int(sys.argv[2])
    run_simple(host, port, app(), threaded=True, request_handler=MotoRequestHandler)


if __name__ == "__main__":
    main()
