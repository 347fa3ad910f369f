"""Turns a published price list into model prices for the quota service.

The list is the open-source LLM proxy's `model_prices_and_context_window.json`
(per-token USD figures, shipped inside the `litellm` package on the Python
registry). Its numbers are read as their exact decimal text, never through a
float, and multiplied by 1,000,000 into the service's per-million rates. Only
the models named with `--models` are converted; what would be created is
printed first, and written only with `--apply`.

    python3 tools/import_prices.py --models gpt-4o,claude-sonnet-4-5            # from PyPI, print only
    python3 tools/import_prices.py --file prices.json --models gpt-4o --apply \\
        --url http://127.0.0.1:8080 --token "$TOKEN"

A model id is the list's key; `--provider-prefix` names it `{provider}/{key}`
(the key stays as an alias). Exit status 1 when a named model is missing or
cannot be priced exactly (a rate with more than 4 decimal places per million).
"""

import argparse
import decimal
import glob
import json
import os
import subprocess
import sys
import tempfile
import urllib.error
import urllib.request
import zipfile
from decimal import Decimal

MILLION = Decimal(1_000_000)
# The list's per-token fields, and the price fields they become.
RATES = [
    ("input_cost_per_token", "inputPerMillion"),
    ("output_cost_per_token", "outputPerMillion"),
    ("cache_read_input_token_cost", "cachedInputPerMillion"),
    ("cache_creation_input_token_cost", "cacheWritePerMillion"),
]
# Long-context rates the list states as "above N tokens".
LONG_CONTEXT = [(200_000, "_above_200k_tokens"), (128_000, "_above_128k_tokens")]
LIST_NAME = "model_prices_and_context_window"


class Unpriceable(Exception):
    pass


def load_list(text: str) -> dict:
    """The list, every number as an exact Decimal (never a float)."""
    return json.loads(text, parse_float=Decimal, parse_int=Decimal)


def per_million(model: str, field: str, per_token) -> str:
    if not isinstance(per_token, Decimal):
        raise Unpriceable(f"{model}: {field} is not a number ({per_token!r})")
    rate = (per_token * MILLION).normalize()
    if rate < 0:
        raise Unpriceable(f"{model}: {field} is negative")
    exponent = rate.as_tuple().exponent
    if isinstance(exponent, int) and exponent < -4:
        raise Unpriceable(f"{model}: {field} is {per_token} per token, {rate} per million: more than 4 decimal places")
    # Plain notation: "3", "0.125", never "3E+0".
    return format(rate, "f")


def price_row(key: str, entry: dict, provider_prefix: bool, source: str) -> dict:
    """The body of `POST /api/admin/quota/prices` for one list entry."""
    model = key
    aliases = []
    provider = entry.get("litellm_provider")
    if provider_prefix and provider and "/" not in key:
        model = f"{provider}/{key}"
        aliases = [key]
    row = {"model": model}
    if aliases:
        row["aliases"] = aliases
    for field, name in RATES:
        if field in entry:
            row[name] = per_million(key, field, entry[field])
    for required in ("inputPerMillion", "outputPerMillion"):
        if required not in row:
            raise Unpriceable(f"{key}: the list has no {required.replace('PerMillion', '')} price per token")
    for threshold, suffix in LONG_CONTEXT:
        long = {name: per_million(key, field + suffix, entry[field + suffix])
                for field, name in RATES if field + suffix in entry}
        if "inputPerMillion" in long or "outputPerMillion" in long:
            long.setdefault("inputPerMillion", row["inputPerMillion"])
            long.setdefault("outputPerMillion", row["outputPerMillion"])
            row["longContext"] = {"thresholdTokens": threshold, **long}
            break
    row["source"] = source
    return row


def rows_for(prices: dict, models: list, provider_prefix: bool, source: str):
    """The rows for `models`, and the problems of those that have none."""
    rows, problems = [], []
    for key in models:
        entry = prices.get(key)
        if not isinstance(entry, dict) or key == "sample_spec":
            problems.append(f"{key}: not in the list")
            continue
        try:
            rows.append(price_row(key, entry, provider_prefix, source))
        except Unpriceable as e:
            problems.append(str(e))
    return rows, problems


def from_pypi(version: str) -> tuple:
    """The list inside the litellm wheel from the Python registry, and its source line."""
    spec = f"litellm=={version}" if version else "litellm"
    with tempfile.TemporaryDirectory() as d:
        subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary", ":all:", "-q", "-d", d, spec],
                       check=True)
        [wheel] = glob.glob(os.path.join(d, "litellm-*.whl"))
        with zipfile.ZipFile(wheel) as z:
            names = [n for n in z.namelist() if n.endswith(f"{LIST_NAME}_backup.json") or n.endswith(f"{LIST_NAME}.json")]
            if not names:
                raise SystemExit(f"{os.path.basename(wheel)} holds no {LIST_NAME}.json")
            text = z.read(sorted(names, key=len)[0]).decode()
        return text, f"litellm {os.path.basename(wheel).split('-')[1]} {LIST_NAME}.json"


def post(url: str, token: str, row: dict) -> tuple:
    request = urllib.request.Request(f"{url.rstrip('/')}/api/admin/quota/prices", method="POST",
                                     data=json.dumps(row).encode(),
                                     headers={"content-type": "application/json", "authorization": f"Bearer {token}"})
    try:
        with urllib.request.urlopen(request, timeout=10) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"{}")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", required=True, help="comma-separated keys of the list")
    parser.add_argument("--file", help=f"a {LIST_NAME}.json (default: the one in litellm from PyPI)")
    parser.add_argument("--litellm-version", default="", help="the litellm release to read (default: the latest)")
    parser.add_argument("--provider-prefix", action="store_true", help="name models {provider}/{key}")
    parser.add_argument("--effective-from", help="RFC 3339 instant the prices take effect (default: now)")
    parser.add_argument("--apply", action="store_true", help="create the prices (else only print them)")
    parser.add_argument("--url", default="http://127.0.0.1:8080", help="the API (make run's by default)")
    parser.add_argument("--token", default=os.environ.get("TOKEN", ""), help="an admin token (default: $TOKEN)")
    args = parser.parse_args(argv)
    decimal.getcontext().prec = 50
    if args.file:
        with open(args.file) as f:
            text, source = f.read(), f"{os.path.basename(args.file)}"
    else:
        text, source = from_pypi(args.litellm_version)
    models = [m.strip() for m in args.models.split(",") if m.strip()]
    rows, problems = rows_for(load_list(text), models, args.provider_prefix, source)
    for row in rows:
        if args.effective_from:
            row["effectiveFrom"] = args.effective_from
        print(json.dumps(row))
    for p in problems:
        print(f"skipped: {p}", file=sys.stderr)
    if not args.apply:
        print(f"{len(rows)} price(s) to create; run again with --apply to create them", file=sys.stderr)
        return 1 if problems else 0
    if not args.token:
        raise SystemExit("--apply needs an admin token (--token or $TOKEN; `make token` mints one)")
    failed = bool(problems)
    for row in rows:
        status, answer = post(args.url, args.token, row)
        if status == 201:
            print(f"created {answer['priceId']} for {row['model']}", file=sys.stderr)
        else:
            failed = True
            print(f"refused {row['model']}: {status} {answer.get('detail', '')} {answer.get('errors', '')}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
