#!/usr/bin/env bash
# Run every JSON-printing command of the CLI on the shared fixtures and write each
# output to OUT_DIR/<name>.json, so two revisions can be compared byte for byte:
#
#   scripts/cli_json_outputs.sh /tmp/before      # on the old revision
#   scripts/cli_json_outputs.sh /tmp/after       # on the new one
#   diff -r /tmp/before /tmp/after
#
# Each command runs in a fresh TOKENBUDDY_HOME with a fixed time zone and HOME, so the
# machine's own logs and settings never leak in. Outputs that depend on the clock
# (status, doctor timings) are normalised where they print the current time.
set -euo pipefail
cd "$(dirname "$0")/.."

out_dir="${1:?usage: $0 OUT_DIR}"
fixtures="${TOKENBUDDY_FIXTURES:-../shared/fixtures}"
[ -d "$fixtures/claude" ] || { echo "no fixtures at $fixtures" >&2; exit 1; }
fixtures="$(cd "$fixtures" && pwd)"
mkdir -p "$out_dir"
# A fixed scratch path: doctor prints the ledger's path.
scratch="${TMPDIR:-/tmp}/tokenbuddy-cli-json-outputs"
rm -rf "$scratch"
trap 'rm -rf "$scratch"' EXIT

run() {  # run NAME ARGS...: one command in a fresh home, output to NAME.json
  local name="$1"; shift
  local home="$scratch/$name"
  mkdir -p "$home/home"
  env -i PATH="$PATH" HOME="$home/home" TZ=UTC LANG=C.UTF-8 \
    TOKENBUDDY_HOME="$home/tb" TOKENBUDDY_TIMEZONE=UTC \
    CLAUDE_CONFIG_DIR="$fixtures/claude" CODEX_HOME="$fixtures/codex" \
    TOKENBUDDY_CURSOR_DIR="$home/cursor" PYTHON_KEYRING_BACKEND=keyring.backends.null.Keyring \
    "${PYTHON:-python}" -m tokenbuddy "$@" >"$out_dir/$name.json" 2>"$out_dir/$name.stderr" \
    || echo "exit $?" >>"$out_dir/$name.stderr"
}

for kind in daily weekly monthly session model; do
  run "report-$kind" report "$kind" --json
  run "report-$kind-codex" report "$kind" --json --source codex
  run "report-$kind-claude" report "$kind" --json --source claude-code --since 2025-09-01 --until 2026-03-31
done
run report-daily-tz report daily --json --tz Asia/Kolkata
run report-project report session --json --project a
run tips tips --json --since 2025-01-01
run replay replay --json "$fixtures/claude" "$fixtures/codex"
run sources sources --json
run reconcile reconcile --json
run doctor doctor --json
run status status --json
# Times that are "now" differ between any two runs; blank them out.
sed -E -i 's/"(generated_at|now|as_of|checked_at)": *"[^"]*"/"\1": "<now>"/g; s/"(generated_at_ms|now_ms)": *[0-9]+/"\1": 0/g; s/"remaining_days":[0-9.]+/"remaining_days":0/g; s/"window_days":[0-9.]+/"window_days":0/g; s/the last [0-9.]+ days/the last N days/g; s/× 30 \/ [0-9.]+\)/× 30 \/ N)/g' \
  "$out_dir"/status.json "$out_dir"/doctor.json "$out_dir"/tips.json
echo "wrote $(ls "$out_dir"/*.json | wc -l) outputs to $out_dir"
