#!/usr/bin/env bash
# `npm run sim -- --port 0 --state DIR --password-file FILE [--inventory FILE] ...`: the engine simulator (Node 24,
# built on demand). See simulator/README.md.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$ROOT"
[ -x node_modules/.bin/node ] || npm ci --no-audit --no-fund >/dev/null
if [ ! -f dist/simulator/cli.js ] || [ -n "$(find simulator -newer dist/simulator/cli.js -name '*.ts' -print -quit)" ]; then
  tsc -p tsconfig.json >&2
fi
exec node dist/simulator/cli.js "$@"
