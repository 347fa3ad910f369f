"""The price list import: exact decimal text to per-million rates, never a float."""

import json
import os
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
import import_prices  # noqa: E402

# As the list writes them: exponents and long decimals that a float would blur.
LIST = """{
  "sample_spec": {"input_cost_per_token": 0.0},
  "gpt-4o": {"litellm_provider": "openai", "input_cost_per_token": 2.5e-06, "output_cost_per_token": 1e-05,
             "cache_read_input_token_cost": 1.25e-06},
  "claude-sonnet-4-5": {"litellm_provider": "anthropic", "input_cost_per_token": 3e-06,
             "output_cost_per_token": 1.5e-05, "cache_read_input_token_cost": 3e-07,
             "cache_creation_input_token_cost": 3.75e-06,
             "input_cost_per_token_above_200k_tokens": 6e-06, "output_cost_per_token_above_200k_tokens": 2.25e-05},
  "gpt-4o-mini": {"litellm_provider": "openai", "input_cost_per_token": 0.00000015, "output_cost_per_token": 6e-07},
  "tiny": {"input_cost_per_token": 1.23456789e-11, "output_cost_per_token": 1e-06},
  "embeddings-only": {"input_cost_per_token": 1e-07}
}"""


class ImportPrices(unittest.TestCase):
    def rows(self, models, prefix=False):
        return import_prices.rows_for(import_prices.load_list(LIST), models, prefix, "test list")

    def test_rates_are_exact_per_million_strings(self):
        rows, problems = self.rows(["gpt-4o", "gpt-4o-mini", "claude-sonnet-4-5"])
        self.assertEqual(problems, [])
        gpt, mini, sonnet = rows
        self.assertEqual((gpt["inputPerMillion"], gpt["outputPerMillion"], gpt["cachedInputPerMillion"]),
                         ("2.5", "10", "1.25"))
        # 0.15 and 0.6 exactly: through a float 1.5e-07 * 1e6 is 0.15000000000000002.
        self.assertEqual((mini["inputPerMillion"], mini["outputPerMillion"]), ("0.15", "0.6"))
        self.assertEqual(sonnet["cacheWritePerMillion"], "3.75")
        self.assertEqual(sonnet["longContext"], {"thresholdTokens": 200000, "inputPerMillion": "6",
                                                 "outputPerMillion": "22.5"})
        self.assertEqual(sonnet["source"], "test list")

    def test_provider_prefix_keeps_the_key_as_an_alias(self):
        [row], _ = self.rows(["gpt-4o"], prefix=True)
        self.assertEqual((row["model"], row["aliases"]), ("openai/gpt-4o", ["gpt-4o"]))

    def test_a_model_that_cannot_be_priced_exactly_is_named_not_rounded(self):
        rows, problems = self.rows(["tiny", "embeddings-only", "nope", "sample_spec"])
        self.assertEqual(rows, [])
        self.assertIn("more than 4 decimal places", problems[0])
        self.assertIn("no output price", problems[1])
        self.assertEqual(problems[2:], ["nope: not in the list", "sample_spec: not in the list"])

    def test_the_command_prints_before_it_writes(self):
        with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
            f.write(LIST)
        try:
            out = io_capture(lambda: import_prices.main(["--file", f.name, "--models", "gpt-4o,nope"]))
        finally:
            os.unlink(f.name)
        code, printed = out
        self.assertEqual(code, 1, "a named model was skipped")
        self.assertEqual(json.loads(printed.strip())["model"], "gpt-4o")


def io_capture(call):
    import contextlib
    import io
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf), contextlib.redirect_stderr(io.StringIO()):
        code = call()
    return code, buf.getvalue()


if __name__ == "__main__":
    unittest.main()
