#!/usr/bin/env bash
# Installs Debian packages a make target needs but the machine lacks (as root,
# with apt-get), or says in one line what to run first:
#   tools/apt-install.sh WHAT PACKAGE...   (WHAT: who needs them, for the message)
set -euo pipefail
what=$1
shift
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
  echo "$what needs $*: run \`apt-get install $*\` as root first" >&2
  exit 2
fi
echo "installing $* with apt-get" >&2
apt-get update -qq >&2
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >&2
