"""The emulator wrapper (tools/moto_serial.py) against the pinned moto:
cancelled transactions leave no trace, and memory stays flat under records.

Run by `make test` (python -m unittest discover -s tools/tests)."""

import sys
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from botocore.exceptions import ClientError  # noqa: E402

from emulator_client import Emulator, create_table, fill, record  # noqa: E402


def cancel_reasons(error: ClientError) -> list[str]:
    return [r.get("Code", "None") for r in error.response.get("CancellationReasons", [])]


class CancelledTransactions(unittest.TestCase):
    """What the whole-table backup was for: a cancelled transaction changes nothing."""

    @classmethod
    def setUpClass(cls):
        cls.emulator = Emulator()
        cls.db = cls.emulator.client()
        create_table(cls.db, "t", stream=True)
        cls.stream_arn = cls.db.describe_table(TableName="t")["Table"]["LatestStreamArn"]

    @classmethod
    def tearDownClass(cls):
        cls.emulator.stop()

    def get(self, pk: str, sk: str):
        return self.db.get_item(TableName="t", Key={"pk": {"S": pk}, "sk": {"S": sk}}, ConsistentRead=True).get("Item")

    def stream_records(self) -> int:
        streams = self.emulator.client("dynamodbstreams")
        shard = streams.describe_stream(StreamArn=self.stream_arn)["StreamDescription"]["Shards"][0]["ShardId"]
        it = streams.get_shard_iterator(StreamArn=self.stream_arn, ShardId=shard, ShardIteratorType="TRIM_HORIZON")
        return len(streams.get_records(ShardIterator=it["ShardIterator"])["Records"])

    def test_an_update_before_a_failed_condition_is_rolled_back(self):
        record(self.db, "t", "a", "r1", 0)
        before_stream = self.stream_records()
        with self.assertRaises(ClientError) as cm:
            # The same request id again: the Update runs first, the marker Put fails.
            record(self.db, "t", "a", "r1", 1)
        self.assertEqual(cancel_reasons(cm.exception), ["None", "ConditionalCheckFailed"])
        month = self.get("USER#a", "USAGE#2026-11")
        self.assertEqual((month["requests"]["N"], month["cost"]["N"]), ("1", "0.0123"))
        self.assertEqual(self.stream_records(), before_stream, "a cancelled write leaves no stream record")

    def test_an_item_created_before_a_failed_condition_disappears(self):
        with self.assertRaises(ClientError):
            self.db.transact_write_items(
                TransactItems=[
                    {"Put": {"TableName": "t", "Item": {"pk": {"S": "USER#new"}, "sk": {"S": "X"}}}},
                    {"Put": {"TableName": "t", "Item": {"pk": {"S": "USER#new"}, "sk": {"S": "Y"}}}},
                    {
                        "ConditionCheck": {
                            "TableName": "t",
                            "Key": {"pk": {"S": "USER#nobody"}, "sk": {"S": "Z"}},
                            "ConditionExpression": "attribute_exists(pk)",
                        }
                    },
                ]
            )
        self.assertIsNone(self.get("USER#new", "X"))
        self.assertIsNone(self.get("USER#new", "Y"))
        page = self.db.query(
            TableName="t", KeyConditionExpression="pk = :p", ExpressionAttributeValues={":p": {"S": "USER#new"}}
        )
        self.assertEqual(page["Count"], 0)

    def test_a_deleted_item_comes_back(self):
        self.db.put_item(TableName="t", Item={"pk": {"S": "USER#d"}, "sk": {"S": "K"}, "v": {"N": "7"}})
        with self.assertRaises(ClientError):
            self.db.transact_write_items(
                TransactItems=[
                    {"Delete": {"TableName": "t", "Key": {"pk": {"S": "USER#d"}, "sk": {"S": "K"}}}},
                    {
                        "Update": {
                            "TableName": "t",
                            "Key": {"pk": {"S": "USER#d"}, "sk": {"S": "L"}},
                            "UpdateExpression": "SET v = :v",
                            "ConditionExpression": "attribute_exists(pk)",
                            "ExpressionAttributeValues": {":v": {"N": "1"}},
                        }
                    },
                ]
            )
        self.assertEqual(self.get("USER#d", "K")["v"]["N"], "7")
        self.assertIsNone(self.get("USER#d", "L"))

    def test_a_committed_transaction_still_commits(self):
        record(self.db, "t", "c", "r1", 0)
        record(self.db, "t", "c", "r2", 1)
        self.assertEqual(self.get("USER#c", "USAGE#2026-11")["requests"]["N"], "2")
        self.assertIsNotNone(self.get("USER#c", "REQUEST#r2"))


class Memory(unittest.TestCase):
    def test_resident_memory_stays_flat_under_records(self):
        emulator = Emulator()
        try:
            db = emulator.client()
            create_table(db, "q")
            fill(db, "q", 2000)
            for i in range(300):
                record(db, "q", "u", f"w{i}", i)
            warm = emulator.rss_mb()
            for i in range(300, 2300):
                record(db, "q", "u", f"w{i}", i)
            grown = emulator.rss_mb() - warm
            # Stock moto grows by about 1 MB per record here (a table copy each).
            self.assertLess(grown, 40, f"RSS grew {grown:.0f} MB over 2,000 records")
        finally:
            emulator.stop()


if __name__ == "__main__":
    unittest.main()
