#!/usr/bin/env bash
# `make bench`'s last table: a bounded load run against the local stack
# (`make run`'s server, release build, emulator behind it) with `hey`:
# fixed request counts and concurrency, then the server's and the
# emulator's resident memory before and after (it must stay flat).
# Needs `hey` (Debian: apt-get install hey); run through tools/with-emulator.sh.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
if ! command -v hey >/dev/null; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    apt-get install -y -qq hey >/dev/null
  else
    echo "load run skipped: install hey first (apt-get install hey)"; exit 0
  fi
fi
server="$root/target/release/quota-dev"
[ -x "$server" ] || { echo "load run skipped: build the server first (cargo build --release -p quota-dev)"; exit 0; }
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')
export QUOTA_TABLE="load-$$" EVENTS_TABLE="load-events-$$"
set -a; . "$root/tools/local-auth.env"; set +a
"$server" serve "127.0.0.1:$port" >/tmp/quota-load-$$.log 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null || true' EXIT
base="http://127.0.0.1:$port"
for _ in $(seq 1 100); do curl -sf -o /dev/null -X POST "$base/api/quota/check" -H 'content-type: application/json' -d '{"userId":"probe"}' && break; sleep 0.2; done
token=$("$server" token load-admin admin)
rss() { awk '/VmRSS/ {printf "%.0f", $2/1024}' "/proc/$1/status"; }
emulator=$(cat "$root/.local/moto.pid")
server_before=$(rss $pid); emulator_before=$(rss "$emulator")

run() { # label, count, concurrency, hey arguments...
  local label=$1 n=$2 c=$3; shift 3
  hey -n "$n" -c "$c" "$@" > /tmp/quota-hey-$$.txt
  python3 - "$label" "$n" "$c" /tmp/quota-hey-$$.txt <<'EOF'
import re, sys
label, n, c, path = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
text = open(path).read()
rps = float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))
pct = lambda p: float(re.search(rf"{p}% in ([\d.]+) secs", text).group(1)) * 1000
codes = dict(re.findall(r"\[(\d+)\]\s+(\d+) responses", text))
ok = sum(int(v) for k, v in codes.items() if k.startswith("2") or k == "429")
print(f"| {label} | {n} | {c} | {rps:,.0f} | {pct(50):.1f} | {pct(99):.1f} | {int(n) - ok} |")
EOF
}
echo "## Load against the local stack (hey, release build, emulator behind it)"
echo
echo "| request | requests | concurrency | per second | p50 ms | p99 ms | errors (not 2xx/429) |"
echo "|---|---|---|---|---|---|---|"
json=(-m POST -T application/json)
run "check, allowed (bob, Staff)" 2000 8 "${json[@]}" -d '{"userId":"bob","roles":["Staff"]}' "$base/api/quota/check"
run "check, blocked (carol, 429)" 2000 8 "${json[@]}" -d '{"userId":"carol"}' "$base/api/quota/check"
run "record, the same requestId again and again" 1000 8 "${json[@]}" -d '{"userId":"alice","requestId":"load-1","cost":"0.01"}' "$base/api/quota/usage"
run "admin: list tiers" 1000 8 -H "Authorization: Bearer $token" "$base/api/admin/quota/tiers"
run "admin: inspect a user" 1000 8 -H "Authorization: Bearer $token" "$base/api/admin/quota/users/carol?roles=Staff"
echo
echo "| process | RSS before MB | RSS after MB |"
echo "|---|---|---|"
echo "| quota-dev serve (every function) | $server_before | $(rss $pid) |"
echo "| emulator | $emulator_before | $(rss "$emulator") |"
echo
