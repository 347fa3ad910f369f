"""The cross-field rules openapi.json states for creating tiers and overrides
(shared/src/openapi.rs, limit_rules) accept and refuse what the API does
(the same cases are the handlers' own tests in shared/src/model)."""

import json
import pathlib
import unittest

import jsonschema
import referencing
import referencing.jsonschema

DOCUMENT = json.loads((pathlib.Path(__file__).resolve().parents[2] / "openapi.json").read_text())
REGISTRY = referencing.Registry().with_resource(
    "urn:openapi", referencing.jsonschema.DRAFT202012.create_resource(DOCUMENT)
)


def valid(schema, body):
    validator = jsonschema.Draft202012Validator({"$ref": f"urn:openapi#/components/schemas/{schema}"}, registry=REGISTRY)
    return validator.is_valid(body)


class TierRules(unittest.TestCase):
    base = {"tierId": "t", "tierName": "T"}

    def test_a_tier_is_unlimited_or_sets_a_limit(self):
        self.assertTrue(valid("NewTier", {**self.base, "unlimited": True}))
        self.assertTrue(valid("NewTier", {**self.base, "dailyCostLimit": "2.50"}))
        self.assertTrue(valid("NewTier", {**self.base, "monthlyTokenLimit": 1000, "unlimited": False}))
        self.assertFalse(valid("NewTier", self.base))
        self.assertFalse(valid("NewTier", {**self.base, "unlimited": False}))
        self.assertFalse(valid("NewTier", {**self.base, "dailyCostLimit": None}))

    def test_an_unlimited_tier_takes_no_limit(self):
        self.assertFalse(valid("NewTier", {**self.base, "unlimited": True, "dailyCostLimit": "5"}))
        self.assertTrue(valid("NewTier", {**self.base, "unlimited": True, "dailyCostLimit": None}))

    def test_a_strict_tier_names_its_default_reservation(self):
        limited = {**self.base, "dailyCostLimit": "1.00"}
        self.assertFalse(valid("NewTier", {**limited, "enforcement": "strict"}))
        self.assertTrue(valid("NewTier", {**limited, "enforcement": "strict", "defaultReservation": "0.05"}))
        self.assertTrue(valid("NewTier", {**limited, "enforcement": "standard"}))


class OverrideRules(unittest.TestCase):
    base = {"userId": "u", "validUntil": "2026-12-01T00:00:00Z", "reason": "r"}

    def test_a_custom_override_sets_a_limit_and_an_unlimited_one_none(self):
        self.assertTrue(valid("NewOverride", {**self.base, "overrideType": "custom_limit", "dailyRequestLimit": 5}))
        self.assertFalse(valid("NewOverride", {**self.base, "overrideType": "custom_limit"}))
        self.assertTrue(valid("NewOverride", {**self.base, "overrideType": "unlimited"}))
        self.assertFalse(valid("NewOverride", {**self.base, "overrideType": "unlimited", "dailyCostLimit": "5"}))

    def test_a_strict_override_names_its_default_reservation(self):
        unlimited = {**self.base, "overrideType": "unlimited"}
        self.assertFalse(valid("NewOverride", {**unlimited, "enforcement": "strict"}))
        self.assertTrue(valid("NewOverride", {**unlimited, "enforcement": "strict", "defaultReservation": "0.05"}))
        self.assertTrue(valid("NewOverride", {**unlimited, "enforcement": "standard"}))


if __name__ == "__main__":
    unittest.main()
