#!/usr/bin/env bash
# README command 2: every test suite. Installs what is missing first (system packages, Node 24, npm deps, the
# Pulumi CLI, vcsim, the Python SDK venv), then runs the mocha suites (unit, simulator, provider, V2V, end-to-end
# with the real Pulumi CLI) and the Python SDK conformance test, and closes with one line over all of them:
# "N passed, N failed, N skipped".
set -uo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$ROOT"
start=$(date +%s)
bash scripts/install-system-deps.sh || { echo "0 passed, 1 failed"; exit 1; }
bash scripts/toolchain.sh || { echo "0 passed, 1 failed"; exit 1; }
if [ -x tools/vcsim/build.sh ]; then bash tools/vcsim/build.sh || { echo "0 passed, 1 failed"; exit 1; }; fi

passed=0; failed=0; skipped=0
add_counts() { # file with {"passed":n,"failed":n,"skipped":n}
  local p f s
  read -r p f s < <(node -e 'const c=JSON.parse(require("fs").readFileSync(process.argv[1],"utf8"));console.log(c.passed,c.failed,c.skipped||0)' "$1")
  passed=$((passed + p)); failed=$((failed + f)); skipped=$((skipped + s))
}

counts=$(mktemp)
export TEST_COUNTS_FILE=$counts
echo '{"passed":0,"failed":1,"skipped":0}' > "$counts"   # a crashed mocha counts as a failure
# the Python SDK's venv before mocha: test/simulator/wireConformance.test.ts regenerates the wire model from it
if [ -x tools/conformance/setup.sh ] && [ -z "${SKIP_CONFORMANCE:-}" ]; then
  bash tools/conformance/setup.sh >/dev/null || echo "tools/conformance/setup.sh failed: the wire-model test will skip and the conformance run will fail"
fi
spec=${TEST_SPEC:-dist/test/**/*.test.js}
mocha --reporter dist/test/support/reporter.js --timeout 600000 --exit "$spec"
add_counts "$counts"

if [ -x tools/conformance/run.sh ] && [ -z "${SKIP_CONFORMANCE:-}" ]; then
  out=$(mktemp)
  bash tools/conformance/run.sh 2>&1 | tee "$out"
  p=$(grep -oE '[0-9]+ passed' "$out" | tail -1 | grep -oE '[0-9]+' || echo 0)
  f=$(grep -oE '[0-9]+ (failed|error|errors)' "$out" | tail -1 | grep -oE '[0-9]+' || echo 0)
  if [ "$p" = 0 ] && [ "$f" = 0 ]; then f=1; fi   # the conformance run produced no result at all
  passed=$((passed + p)); failed=$((failed + f))
fi

echo "test wall time: $(( $(date +%s) - start ))s"
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
