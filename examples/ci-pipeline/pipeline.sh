#!/usr/bin/env bash
# A CI pipeline for a migration stack: preview on a pull request, apply on merge.
#
#   pipeline.sh pull_request   -> `pulumi preview --diff`, saved to $PREVIEW_FILE, and the migration plan (what moves,
#                                 bytes, space, estimate, risks) as Markdown in $PLAN_FILE for a review comment; the
#                                 engine is only read (the provider's preview path sends no mutating request)
#   pipeline.sh push           -> `pulumi up --yes`, then `pulumi preview --expect-no-changes` to prove the stack
#                                 converged (a second run would change nothing)
#
# Inputs (environment): STACK (stack name), PROJECT_DIR (the Pulumi project, default examples/one-shot),
# PULUMI_BACKEND_URL and PULUMI_CONFIG_PASSPHRASE (or a Pulumi Cloud token), and the stack's config with the engine
# password as a secret. The event name is the first argument, or $GITHUB_EVENT_NAME.
set -euo pipefail
event=${1:-${GITHUB_EVENT_NAME:-}}
here=$(cd "$(dirname "$0")" && pwd)
project=${PROJECT_DIR:-$here/../one-shot}
stack=${STACK:?set STACK to the stack name}
preview_file=${PREVIEW_FILE:-$PWD/preview.txt}
# the plan of every Migration of the stack, written by the preview (provider/plan); next to preview.txt by default
plan_file=${PLAN_FILE:-$(dirname "$preview_file")/plan.md}
export PULUMI_SKIP_UPDATE_CHECK=true

cd "$project"
case "$event" in
  pull_request)
    echo "::group::pulumi preview ($stack)"
    rm -f "$plan_file"
    OVIRT_MIGRATE_PLAN_FILE=$plan_file pulumi preview --stack "$stack" --diff --non-interactive 2>&1 | tee "$preview_file"
    status=${PIPESTATUS[0]}
    echo "::endgroup::"
    # GitHub Actions: the plan on the job's summary page too (the workflow posts it on the pull request)
    if [ -s "$plan_file" ] && [ -n "${GITHUB_STEP_SUMMARY:-}" ]; then cat "$plan_file" >> "$GITHUB_STEP_SUMMARY"; fi
    exit "$status"
    ;;
  push)
    echo "::group::pulumi up ($stack)"
    pulumi up --yes --stack "$stack" --non-interactive
    echo "::endgroup::"
    echo "::group::convergence check"
    pulumi preview --stack "$stack" --expect-no-changes --non-interactive
    echo "::endgroup::"
    ;;
  *)
    echo "pipeline.sh: the event must be pull_request or push (got '${event}')" >&2
    exit 2
    ;;
esac
