# Sourced by every script: puts the project's toolchain first on PATH and keeps Pulumi offline.
# Usage: . scripts/env.sh   (from anywhere; ROOT is set to the repository root)
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
export ROOT
export PATH="$ROOT/.tools/bin:$ROOT/node_modules/.bin:$PATH"
export PULUMI_SKIP_UPDATE_CHECK=true
export PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION=true
export PULUMI_HOME="${PULUMI_HOME:-$ROOT/.pulumi-home}"
export PULUMI_BACKEND_URL="${PULUMI_BACKEND_URL:-file://$ROOT/.pulumi-state}"
export PULUMI_CONFIG_PASSPHRASE="${PULUMI_CONFIG_PASSPHRASE-demo-passphrase}"
export GOFLAGS="${GOFLAGS:--buildvcs=false}"
mkdir -p "$PULUMI_HOME" "${PULUMI_BACKEND_URL#file://}"
# V8 code cache for every Node process started from here (the CLI's language host, the program, the dynamic
# provider, tests): each of them loads @pulumi/pulumi (~770 modules); cached bytecode saves ~0.15 s per process.
# Keyed by file content, so edits never run stale code.
export NODE_COMPILE_CACHE="${NODE_COMPILE_CACHE:-$ROOT/.cache/node-compile}"
