#!/usr/bin/env bash
# README command 1: installs what is missing, then runs the main job (scripts/demo.ts).
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$ROOT"
bash scripts/toolchain.sh
exec node dist/scripts/demo.js "$@"
