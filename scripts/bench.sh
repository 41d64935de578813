#!/usr/bin/env bash
# `npm run bench`: installs what is missing (toolchain.sh: Node, deps, the Pulumi CLI, the TypeScript build), then
# measures the provider with the real CLI against the simulator (bench/run.ts) and writes bench/last-run.json.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$ROOT"
bash scripts/toolchain.sh
exec node dist/bench/run.js "$@"
