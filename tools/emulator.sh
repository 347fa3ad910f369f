#!/usr/bin/env bash
# Starts and stops the local DynamoDB stand-in (moto's server mode).
# usage: tools/emulator.sh start [port] | stop | env
# `start` prints nothing but the endpoint URL on stdout; state lives in .local/.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
state="$root/.local"
venv="$root/.venv"
mkdir -p "$state"

ensure_venv() {
  if [ ! -x "$venv/bin/moto_server" ]; then
    echo "installing moto into $venv" >&2
    python3 -m venv "$venv" >&2
    "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$root/tools/requirements.txt" >&2
  fi
}

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

case "${1:-}" in
  start)
    ensure_venv
    if [ -f "$state/moto.pid" ] && kill -0 "$(cat "$state/moto.pid")" 2>/dev/null; then
      cat "$state/moto.url"; exit 0
    fi
    port=${2:-$(free_port)}
    "$venv/bin/python" "$root/tools/moto_serial.py" 127.0.0.1 "$port" >"$state/moto.log" 2>&1 &
    echo $! >"$state/moto.pid"
    url="http://127.0.0.1:$port"
    for _ in $(seq 1 100); do
      if python3 -c "import urllib.request,sys; urllib.request.urlopen(sys.argv[1], timeout=1)" "$url/moto-api/" 2>/dev/null; then echo "$url" >"$state/moto.url"; echo "$url"; exit 0; fi
      kill -0 "$(cat "$state/moto.pid")" 2>/dev/null || break
      sleep 0.2
    done
    echo "moto_server did not start; see $state/moto.log" >&2
    cat "$state/moto.log" >&2 || true
    exit 1
    ;;
  stop)
    if [ -f "$state/moto.pid" ]; then
      kill "$(cat "$state/moto.pid")" 2>/dev/null || true
      rm -f "$state/moto.pid" "$state/moto.url"
    fi
    ;;
  *)
    echo "usage: $0 start [port] | stop" >&2; exit 2 ;;
esac
