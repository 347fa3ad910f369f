"""`make bench`: the local emulator under sustained records.

Drives tools/moto_serial.py (a fresh process) with the transaction a guarded
record sends, and prints records per second and the emulator's resident
memory after 200 and 5,000 records, then after 100,000 unrelated items are
added to the table. Flat rows are the point: a long `make run` neither
slows down nor grows. `--stock` runs moto's own server instead, for the
comparison (it needs minutes and gigabytes; stop it early with --records).

usage: python tools/bench_emulator.py [--stock] [--records N] [--fill N]
"""

import argparse
import time

from emulator_client import Emulator, create_table, fill, record


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--stock", action="store_true", help="moto's own server, for comparison")
    parser.add_argument("--records", type=int, default=5000)
    parser.add_argument("--fill", type=int, default=100_000)
    args = parser.parse_args()

    emulator = Emulator(stock=args.stock)
    db = emulator.client()
    create_table(db, "q")
    done = 0
    rows = []

    def run(count: int, label: str) -> None:
        nonlocal done
        times = [time.perf_counter()]
        for _ in range(count):
            record(db, "q", "bench", f"r{done}", done)
            done += 1
            times.append(time.perf_counter())
        last = times[-201:]
        rate = (len(last) - 1) / (last[-1] - last[0])
        rows.append((label, f"{done:,}", f"{rate:,.0f}", f"{emulator.rss_mb():,.0f}"))

    print(f"## The local emulator under records ({'stock moto_server' if args.stock else 'tools/moto_serial.py'})\n")
    print("Records/s is the rate over the last 200 records of each row; one client, one record at a time.\n")
    try:
        rss_start = emulator.rss_mb()
        run(200, "empty table, after 200 records")
        run(args.records - 200, f"after {args.records:,} records")
        fill(db, "q", args.fill)
        run(200, f"after {args.fill:,} more items in the table, 200 more records")
    finally:
        emulator.stop()
    print("| state | records so far | records/s | emulator RSS MB |")
    print("|---|---|---|---|")
    print(f"| fresh | 0 | - | {rss_start:,.0f} |")
    for row in rows:
        print("| " + " | ".join(row) + " |")
    print()


if __name__ == "__main__":
    main()
