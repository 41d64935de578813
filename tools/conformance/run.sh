#!/usr/bin/env bash
# Runs the simulator conformance test with the official oVirt Python SDK. Needs `npm run build` first.
# Prints pytest's summary line; exit status is pytest's.
set -uo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
bash "$here/setup.sh" >/dev/null || { echo "conformance: setup failed (tools/conformance/setup.sh)"; exit 1; }
[ -f "$root/dist/simulator/cli.js" ] || { echo "conformance: dist/simulator/cli.js missing: run npm run build"; exit 1; }
cd "$here"
"$here/.venv/bin/python" -m pytest -q -p no:cacheprovider "$here/test_sdk_conformance.py" "$@"
