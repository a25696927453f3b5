#!/usr/bin/env bash
# The main job: a whole closed-loop campaign on the embedded default.
#
# Starts ionloopd on a fresh data dir (SQLite), 16 channels of the virtual cycler, trains
# the early-cycle model that stops tests early, and runs a Na-ion (NVPF / hard carbon)
# fast-charging campaign seeded by Li data to its budget (32 tests), with a live display
# of proposals, results, the best so far and the model's error. It ends by writing the
# campaign report (HTML with plots, and the CSV behind each) and prints its path.
# A few minutes on a laptop.
#
#   bash scripts/demo.sh                 # runs the campaign, then stops ionloopd
#   bash scripts/demo.sh --keep-running  # leaves ionloopd serving until Ctrl-C
#
# Data land in ./ionloop-demo/<run>/ (override: IONLOOP_DATA_DIR). The campaign is
# examples/campaigns/na_fast_charge.json (its README explains every field).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

BUILD_DIR="${IONLOOP_BUILD_DIR:-build}"
DATA_DIR="${IONLOOP_DATA_DIR:-./ionloop-demo/$(date +%Y%m%d-%H%M%S)}"
KEEP_RUNNING=0
[ "${1:-}" = "--keep-running" ] && KEEP_RUNNING=1

IONLOOPD="$BUILD_DIR/orchestrator/ionloopd"
IONLOOP="$BUILD_DIR/clients/cli/ionloop"
WORKER="$BUILD_DIR/workers/ionloop-worker"
if [ ! -x "$IONLOOPD" ] || [ ! -x "$IONLOOP" ] || [ ! -x "$WORKER" ]; then
  bash scripts/setup.sh
fi

mkdir -p "$DATA_DIR"
rm -f "$DATA_DIR/ionloopd.address"
"$IONLOOPD" --listen=127.0.0.1:0 --data-dir="$DATA_DIR" --log-level=warn &
DAEMON=$!
CYCLER_PID=""
stop() {
  [ -n "$CYCLER_PID" ] && { kill -TERM "$CYCLER_PID" 2>/dev/null && wait "$CYCLER_PID" 2>/dev/null || true; }
  kill -TERM "$DAEMON" 2>/dev/null && wait "$DAEMON" 2>/dev/null || true
}
trap stop EXIT
for _ in $(seq 1 300); do
  [ -s "$DATA_DIR/ionloopd.address" ] && break
  kill -0 "$DAEMON" 2>/dev/null || { echo "demo: ionloopd failed to start" >&2; exit 1; }
  sleep 0.1
done
export IONLOOP_SERVER="$(cat "$DATA_DIR/ionloopd.address")"

step() { printf '\n\033[1m$ ionloop %s\033[0m\n' "$*"; "$IONLOOP" "$@"; }

echo "ionloopd serving on $IONLOOP_SERVER, store $DATA_DIR/ionloop.db"
# 16 channels of the virtual cycler, 3 ms of wall time per simulated cycle (a 3000-cycle
# test takes ~10 s, so the engine sees each test pass cycle 100 and can stop it early).
"$WORKER" --kind cycler --channels 16 --cycle-period-ms 3 --server "$IONLOOP_SERVER" \
  --worker-id demo-cycler --spool-dir "$DATA_DIR/spool-demo-cycler" --log-level warn &
CYCLER_PID=$!
step workers

# The early-cycle model (first 100 cycles → end of life) that stops tests early: trained
# as a job on 300 virtual NVPF/hard-carbon tests of other protocols.
step train early --dataset virtual:300:5:na:NVPF/hard-carbon --name demo-fade --watch | tail -n 3
step models

# The campaign: its surrogate is pre-trained on 300 virtual Li tests (the electrode
# embedding carries the chemistry) and fine-tuned on every Na result.
CAMPAIGN="$("$IONLOOP" campaign create examples/campaigns/na_fast_charge.json --quiet \
  --idempotency-key "demo-$(basename "$DATA_DIR")")"
step campaign watch "$CAMPAIGN"
step campaign status "$CAMPAIGN"
printf '\n\033[1m$ ionloop campaign proposals %s | head\033[0m\n' "$CAMPAIGN"
"$IONLOOP" campaign proposals "$CAMPAIGN" | head -n 12
printf '\n\033[1m$ ionloop campaign report %s --out %s\033[0m\n' "$CAMPAIGN" "$DATA_DIR/report"
REPORT="$("$IONLOOP" campaign report "$CAMPAIGN" --out "$DATA_DIR/report")"
echo
echo "Report: $REPORT"
echo "(plots: capacity fade, predicted vs measured life, best so far vs random search;"
echo " the CSV behind each plot sits beside it)"

if [ "$KEEP_RUNNING" = 1 ]; then
  echo
  echo "ionloopd keeps serving on $IONLOOP_SERVER (Ctrl-C stops it). Try:"
  echo "  IONLOOP_SERVER=$IONLOOP_SERVER $IONLOOP campaign list"
  wait "$DAEMON"
fi
