#!/usr/bin/env bash
# Builds VMware's vCenter simulator (vcsim) from the Go module proxy into .tools/bin/vcsim, once.
# Rebuilds only when the pinned govmomi version (go.mod) differs from the one recorded next to the binary.
#
# Why govmomi v0.46.3 and not the separate module github.com/vmware/govmomi/vcsim: see tools.go.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
bin="$root/.tools/bin"
mkdir -p "$bin"
version="$(awk '$1=="require" && $2=="github.com/vmware/govmomi" {print $3}' "$here/go.mod")"
[ -n "$version" ] || { echo "build.sh: cannot read the govmomi version from $here/go.mod" >&2; exit 1; }
stamp="$bin/vcsim.version"
if [ -x "$bin/vcsim" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$version" ]; then
  echo "vcsim $version already built: $bin/vcsim"
  exit 0
fi
echo "building vcsim (govmomi $version) into $bin/vcsim"
cd "$here"
GOFLAGS="-mod=readonly" CGO_ENABLED=0 go build -trimpath \
  -ldflags "-s -w -X main.buildVersion=$version" \
  -o "$bin/vcsim.tmp" github.com/vmware/govmomi/vcsim
mv "$bin/vcsim.tmp" "$bin/vcsim"
echo "$version" > "$stamp"
# sed reads to the end: `head -1` may exit first, and with pipefail the SIGPIPE of vcsim fails the build
"$bin/vcsim" version | sed -n 1p
