"""The emulator refuses what real DynamoDB refuses, does what it does, and
injects the faults a test asks for (tools/dynamodb_rules.py, in front of
moto in tools/moto_serial.py). Each rule against the running wrapper."""

import json
import sys
import unittest
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from botocore.exceptions import ClientError  # noqa: E402

from emulator_client import Emulator, create_table  # noqa: E402
import dynamodb_rules  # noqa: E402

KEY = {"pk": {"S": "USER#a"}, "sk": {"S": "USAGE#2026-11"}}


def message(error: ClientError) -> str:
    return error.response["Error"]["Message"]


def code(error: ClientError) -> str:
    return error.response["Error"]["Code"]


class Rules(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.emulator = Emulator()
        cls.db = cls.emulator.client()
        create_table(cls.db, "t")
        cls.db.create_table(
            TableName="ranked",
            BillingMode="PAY_PER_REQUEST",
            AttributeDefinitions=[
                {"AttributeName": "pk", "AttributeType": "S"},
                {"AttributeName": "sk", "AttributeType": "S"},
                {"AttributeName": "rankpk", "AttributeType": "S"},
                {"AttributeName": "cost", "AttributeType": "N"},
            ],
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
            GlobalSecondaryIndexes=[{
                "IndexName": "byCost",
                "KeySchema": [{"AttributeName": "rankpk", "KeyType": "HASH"},
                              {"AttributeName": "cost", "KeyType": "RANGE"}],
                "Projection": {"ProjectionType": "KEYS_ONLY"},
            }],
        )

    @classmethod
    def tearDownClass(cls):
        cls.emulator.stop()

    def fault(self, table: str, fault: str, times: int = 1) -> None:
        body = json.dumps({"table": table, "fault": fault, "times": times}).encode()
        urllib.request.urlopen(urllib.request.Request(f"{self.emulator.url}/_faults", data=body, method="POST"))

    def update(self, condition: str, names: dict, values: dict, table: str = "t") -> dict:
        return {"Update": {"TableName": table, "Key": KEY, "UpdateExpression": "ADD #n :one",
                           "ConditionExpression": condition,
                           "ExpressionAttributeNames": {"#n": "n", **names},
                           "ExpressionAttributeValues": {":one": {"N": "1"}, **values}}}

    def test_an_expression_over_4_kb_or_300_operators_is_refused(self):
        names = {f"#x{i}": f"r{i}" for i in range(151)}
        condition = " AND ".join(f"#x{i} <> :one" for i in range(151))
        with self.assertRaises(ClientError) as cm:
            self.db.transact_write_items(TransactItems=[self.update(condition, names, {})])
        self.assertIn("too many operators; operator count: 301", message(cm.exception))  # 151 <> and 150 AND
        names = {f"#x{i}": f"r{i}" for i in range(100)}
        fits = " AND ".join(f"attribute_not_exists(#x{i})" for i in range(100))
        self.db.transact_write_items(TransactItems=[self.update(fits, names, {})])
        big = {"#long": "a" * 10}
        padded = " AND ".join(["attribute_not_exists(#long)"] * 10) + " " * 4000
        with self.assertRaises(ClientError) as cm:
            self.db.update_item(TableName="t", Key=KEY, UpdateExpression="ADD #n :one", ConditionExpression=padded,
                                ExpressionAttributeNames={"#n": "n", **big},
                                ExpressionAttributeValues={":one": {"N": "1"}})
        self.assertIn("Expression size has exceeded the maximum allowed size", message(cm.exception))

    def test_names_and_values_a_transaction_item_does_not_use_are_refused(self):
        with self.assertRaises(ClientError) as cm:
            self.db.transact_write_items(TransactItems=[self.update("attribute_not_exists(#n)", {}, {":unused": {"N": "1"}})])
        self.assertEqual(message(cm.exception), "Value provided in ExpressionAttributeValues unused in expressions: keys: {:unused}")
        with self.assertRaises(ClientError) as cm:
            self.db.transact_write_items(TransactItems=[self.update("attribute_not_exists(#n)", {"#spare": "x"}, {})])
        self.assertIn("ExpressionAttributeNames unused in expressions: keys: {#spare}", message(cm.exception))

    def test_a_start_key_outside_the_key_condition_is_refused(self):
        query = dict(TableName="t", KeyConditionExpression="pk = :p AND sk BETWEEN :a AND :b",
                     ExpressionAttributeValues={":p": {"S": "USER#a"}, ":a": {"S": "2026-11-01"}, ":b": {"S": "2026-11-30"}})
        inside = {"pk": {"S": "USER#a"}, "sk": {"S": "2026-11-15"}}
        self.db.query(**query, ExclusiveStartKey=inside)
        for outside in ({"pk": {"S": "USER#a"}, "sk": {"S": "2026-12-01"}}, {"pk": {"S": "USER#b"}, "sk": {"S": "2026-11-15"}}):
            with self.assertRaises(ClientError) as cm:
                self.db.query(**query, ExclusiveStartKey=outside)
            self.assertIn("outside query boundaries", message(cm.exception))

    def test_an_update_naming_one_path_twice_is_refused(self):
        update = {"TableName": "t", "Key": KEY, "UpdateExpression": "SET #r = :v REMOVE #x",
                  "ExpressionAttributeNames": {"#r": "rsv:a", "#x": "rsv:a"}, "ExpressionAttributeValues": {":v": {"N": "1"}},
                  "ConditionExpression": "attribute_not_exists(#r)"}
        with self.assertRaises(ClientError) as cm:
            self.db.transact_write_items(TransactItems=[{"Update": update}])
        self.assertIn("Two document paths overlap", message(cm.exception))
        update["ExpressionAttributeNames"]["#x"] = "rsv:b"
        self.db.transact_write_items(TransactItems=[{"Update": update}])

    def test_a_number_over_38_significant_digits_is_refused(self):
        self.db.put_item(TableName="t", Item={**KEY, "v": {"N": "1" * 38}})
        with self.assertRaises(ClientError) as cm:
            self.db.put_item(TableName="t", Item={**KEY, "v": {"N": "0." + "1" * 39}})
        self.assertIn("more than 38 significant digits", message(cm.exception))

    def test_an_index_key_of_the_wrong_type_is_refused_on_put(self):
        with self.assertRaises(ClientError) as cm:
            self.db.put_item(TableName="ranked", Item={**KEY, "rankpk": {"S": "TOPM#1"}, "cost": {"S": "12"}})
        self.assertIn("Type mismatch for Index Key cost Expected: N Actual: S IndexName: byCost", message(cm.exception))

    def test_a_page_that_fills_its_limit_has_a_last_evaluated_key(self):
        for i in range(2):
            self.db.put_item(TableName="t", Item={"pk": {"S": "USER#page"}, "sk": {"S": f"s{i}"}})
        page = self.db.query(TableName="t", KeyConditionExpression="pk = :p", Limit=2,
                             ExpressionAttributeValues={":p": {"S": "USER#page"}})
        self.assertEqual(page["LastEvaluatedKey"], {"pk": {"S": "USER#page"}, "sk": {"S": "s1"}})
        rest = self.db.query(TableName="t", KeyConditionExpression="pk = :p", Limit=2,
                             ExpressionAttributeValues={":p": {"S": "USER#page"}}, ExclusiveStartKey=page["LastEvaluatedKey"])
        self.assertEqual((rest["Count"], "LastEvaluatedKey" in rest), (0, False))

    def test_a_client_request_token_applies_a_transaction_once(self):
        key = {"pk": {"S": "USER#tok"}, "sk": {"S": "X"}}
        item = {"Update": {"TableName": "t", "Key": key, "UpdateExpression": "ADD #n :one",
                           "ExpressionAttributeNames": {"#n": "n"}, "ExpressionAttributeValues": {":one": {"N": "1"}}}}
        for _ in range(2):
            self.db.transact_write_items(TransactItems=[item], ClientRequestToken="turn-1")
        self.assertEqual(self.db.get_item(TableName="t", Key=key)["Item"]["n"], {"N": "1"})
        other = {"Update": {**item["Update"], "ExpressionAttributeValues": {":one": {"N": "2"}}}}
        with self.assertRaises(ClientError) as cm:
            self.db.transact_write_items(TransactItems=[other], ClientRequestToken="turn-1")
        self.assertEqual(code(cm.exception), "IdempotentParameterMismatchException")

    def test_remembered_tokens_stay_bounded(self):
        tokens = dynamodb_rules.Tokens()
        tokens.MAX_TOKENS = 3
        for i in range(10):
            tokens.put(f"t{i}", "d", 200, [], b"{}")
        self.assertEqual(len(tokens), 3)
        self.assertIsNone(tokens.get("t0"), "the oldest went first")
        self.assertIsNotNone(tokens.get("t9"))

    def test_injected_faults_hit_their_table_only_and_as_often_as_asked(self):
        create_table(self.db, "faulty")
        item = {"Update": {"TableName": "faulty", "Key": KEY, "UpdateExpression": "ADD #n :one",
                           "ExpressionAttributeNames": {"#n": "n"}, "ExpressionAttributeValues": {":one": {"N": "1"}}}}
        for fault, reason in (("conflict", "TransactionConflict"), ("throttle", "ThrottlingError")):
            self.fault("faulty", fault)
            with self.assertRaises(ClientError) as cm:
                self.db.transact_write_items(TransactItems=[item])
            self.assertEqual([r["Code"] for r in cm.exception.response["CancellationReasons"]], [reason])
        self.assertNotIn("Item", self.db.get_item(TableName="faulty", Key=KEY), "a cancelled transaction applies nothing")
        # Applied, then answered 500: the SDK's retry carries the same
        # ClientRequestToken (SDKs fill it in), so it is answered, not applied again.
        self.fault("faulty", "lose_reply")
        answer = self.db.transact_write_items(TransactItems=[item])
        self.assertEqual(answer["ResponseMetadata"]["RetryAttempts"], 1)
        self.assertEqual(self.db.get_item(TableName="faulty", Key=KEY)["Item"]["n"], {"N": "1"}, "applied once")
        self.fault("faulty", "unprocessed")
        got = self.db.batch_get_item(RequestItems={"faulty": {"Keys": [KEY]}, "t": {"Keys": [KEY]}})
        self.assertEqual((got["UnprocessedKeys"]["faulty"]["Keys"], list(got["Responses"])), ([KEY], ["t"]))
        self.db.transact_write_items(TransactItems=[{"Update": {**item["Update"], "TableName": "t"}}])

    def test_requests_are_counted_per_table_and_operation_until_reset(self):
        create_table(self.db, "counted")
        url = f"{self.emulator.url}/_counts"
        read = lambda: json.loads(urllib.request.urlopen(f"{url}?table=counted").read())["counts"]
        reset = lambda: urllib.request.urlopen(urllib.request.Request(
            url, data=json.dumps({"table": "counted"}).encode(), method="POST"))
        self.assertIn("CreateTable", read(), "every request naming the table")
        reset()
        self.db.get_item(TableName="counted", Key=KEY)
        self.db.batch_get_item(RequestItems={"counted": {"Keys": [KEY]}, "t": {"Keys": [KEY]}})
        self.db.batch_get_item(RequestItems={"t": {"Keys": [KEY]}})
        self.assertEqual(read(), {"GetItem": 1, "BatchGetItem": 1}, "only the requests naming the table")
        reset()
        self.assertEqual(read(), {})

    def test_numbers_add_exactly_at_any_scale(self):
        key = {"pk": {"S": "USER#tiny"}, "sk": {"S": "USAGE#2026-11"}}
        for _ in range(2):
            self.db.update_item(TableName="t", Key=key, UpdateExpression="ADD #c :c",
                                ExpressionAttributeNames={"#c": "cost"}, ExpressionAttributeValues={":c": {"N": "0.0000001"}})
        self.assertEqual(self.db.get_item(TableName="t", Key=key)["Item"]["cost"], {"N": "0.0000002"})
        self.db.update_item(TableName="t", Key=key, UpdateExpression="ADD #c :c",
                            ExpressionAttributeNames={"#c": "cost"}, ExpressionAttributeValues={":c": {"N": "-0.0000002"}})
        self.assertEqual(self.db.get_item(TableName="t", Key=key)["Item"]["cost"], {"N": "0"})


if __name__ == "__main__":
    unittest.main()
