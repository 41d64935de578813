#!/usr/bin/env bash
# Installs what is missing, and only that: Node 24 (npm package `node`) and the npm dependencies, the TypeScript
# build, the Pulumi CLI built from the Go module proxy, and the two plugins the CLI needs next to it.
# Safe to run again: each step checks first. Prints one line per step.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$ROOT"

want_pulumi=$(node -p 'require("./node_modules/@pulumi/pulumi/package.json").version' 2>/dev/null || true)
if [ ! -x node_modules/.bin/node ] || [ -z "$want_pulumi" ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "toolchain: npm ci (Node 24 from the npm registry + dependencies)"
  npm ci --no-audit --no-fund >/dev/null 2>&1 || npm ci --no-audit --no-fund
  want_pulumi=$(node -p 'require("./node_modules/@pulumi/pulumi/package.json").version')
fi
echo "toolchain: node $(node --version), @pulumi/pulumi $want_pulumi"

mkdir -p .tools/bin
if ! grep -q "github.com/pulumi/pulumi/pkg/v3 v$want_pulumi\b" tools/pulumi/go.mod; then
  echo "toolchain: tools/pulumi/go.mod does not require pkg/v3 v$want_pulumi (the @pulumi/pulumi version): update both together" >&2
  exit 1
fi
have=$(.tools/bin/pulumi version 2>/dev/null || true)
if [ "$have" != "v$want_pulumi" ]; then
  echo "toolchain: building the Pulumi CLI v$want_pulumi from the Go module proxy (tools/pulumi; takes minutes once)"
  start=$(date +%s)
  ( cd tools/pulumi && go build -trimpath -tags osusergo,grpcnotrace \
      -ldflags "-s -w -X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=v$want_pulumi" \
      -o "$ROOT/.tools/bin/pulumi" github.com/pulumi/pulumi/pkg/v3/cmd/pulumi )
  echo "toolchain: pulumi built in $(( $(date +%s) - start ))s"
fi
ln -sf ../../tools/language-host/pulumi-language-nodejs .tools/bin/pulumi-language-nodejs
# our wrapper of Pulumi's dynamic-provider host: the orphan watchdog starts with the process (tools/language-host/dynamic-provider.js)
ln -sf ../../tools/language-host/pulumi-resource-pulumi-nodejs .tools/bin/pulumi-resource-pulumi-nodejs
chmod +x tools/language-host/pulumi-resource-pulumi-nodejs tools/language-host/pulumi-language-nodejs
echo "toolchain: $(.tools/bin/pulumi version) at .tools/bin/pulumi"

if [ -z "${SKIP_BUILD:-}" ]; then
  tsc -p tsconfig.json
  echo "toolchain: TypeScript built into dist/"
fi
