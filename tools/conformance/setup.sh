#!/usr/bin/env bash
# Idempotent setup of the Python conformance test environment:
#   Debian build deps (only when missing) + venv tools/conformance/.venv with the official oVirt SDK 4.6.x and pytest.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
need=()
for p in libxml2-dev libcurl4-openssl-dev libssl-dev pkg-config gcc python3-venv python3-dev; do
  dpkg -s "$p" >/dev/null 2>&1 || need+=("$p")
done
if [ ${#need[@]} -gt 0 ]; then
  echo "installing Debian packages: ${need[*]}"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need[@]}"
fi
py="${PYTHON:-/usr/bin/python3}"
[ -x "$py" ] || py="$(command -v python3)"
if [ ! -x "$here/.venv/bin/python" ]; then
  "$py" -m venv "$here/.venv"
fi
"$here/.venv/bin/python" -m pip install -q --upgrade pip >/dev/null
if ! "$here/.venv/bin/python" -c 'import ovirtsdk4, pytest, pycurl' >/dev/null 2>&1; then
  "$here/.venv/bin/python" -m pip install -q -r "$here/requirements.txt"
fi
"$here/.venv/bin/python" -c 'import ovirtsdk4.version as v; print("ovirt-engine-sdk-python", v.VERSION)'
