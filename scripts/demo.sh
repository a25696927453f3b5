#!/usr/bin/env bash
# The main job, for now: start ionloopd on the embedded default (SQLite in
# ./ionloop-data) with local workers (a synthetic one and 16 channels of the virtual
# cycler), submit one job of each kind with the ionloop CLI, watch them run, cancel
# one, and show what the orchestrator holds. Later issues grow this into a whole
# closed-loop campaign.
#
#   bash scripts/demo.sh                 # runs the tour, then stops ionloopd
#   bash scripts/demo.sh --keep-running  # leaves ionloopd serving until Ctrl-C
#
# Jobs are submitted with idempotency keys, so running the demo twice does not
# duplicate them. No XRD, simulation or label workers exist yet: those jobs stay
# QUEUED, and `ionloop status` says why.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

BUILD_DIR="${IONLOOP_BUILD_DIR:-build}"
DATA_DIR="${IONLOOP_DATA_DIR:-./ionloop-data}"
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
WORKER_PID=""
CYCLER_PID=""
stop() {
  for pid in $WORKER_PID $CYCLER_PID; do
    kill -TERM "$pid" 2>/dev/null && wait "$pid" 2>/dev/null || true
  done
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
"$WORKER" --kind synthetic --channels 4 --server "$IONLOOP_SERVER" --worker-id demo-synthetic \
  --spool-dir "$DATA_DIR/spool-demo-synthetic" --log-level warn &
WORKER_PID=$!
# 16 channels of the virtual cycler, 2 ms of wall time per simulated cycle.
"$WORKER" --kind cycler --channels 16 --cycle-period-ms 2 --server "$IONLOOP_SERVER" \
  --worker-id demo-cycler --spool-dir "$DATA_DIR/spool-demo-cycler" --log-level warn &
CYCLER_PID=$!
step info
for file in examples/jobs/*.json; do
  step submit "$file" --idempotency-key "demo-$(basename "$file" .json)"
done
step submit --cycling --ion na --positive NVPF --negative hard-carbon --capacity-ah 0.004 \
  --charge-c 2 --discharge-c 1 --v-min 2.0 --v-max 4.25 --temperature-c 25 --max-cycles 5000 \
  --label campaign=demo --idempotency-key demo-quick-na
step workers
# A short synthetic job runs on the local worker while we watch it.
SYNTHETIC="$(echo '{"synthetic": {"measurements": 200, "interval_ms": 10, "payload_bytes": 16}}' |
  "$IONLOOP" submit - --quiet --idempotency-key demo-run --label campaign=demo)"
step watch "$SYNTHETIC" || true
printf '\n\033[1m$ ionloop measurements %s --csv > %s\033[0m\n' "$SYNTHETIC" "$DATA_DIR/$SYNTHETIC.csv"
"$IONLOOP" measurements "$SYNTHETIC" --csv > "$DATA_DIR/$SYNTHETIC.csv"
echo "($(($(wc -l < "$DATA_DIR/$SYNTHETIC.csv") - 1)) measurements written to $DATA_DIR/$SYNTHETIC.csv)"
step list --kind cycling
CANCEL_ME="$("$IONLOOP" list --output json --kind cycling --label campaign=demo |
  sed -n 's/.*"id": *"\(job-[0-9]*\)".*/\1/p' | head -n 1)"
step status "$CANCEL_ME"
step cancel "$CANCEL_ME" --reason demo || true
step watch "$CANCEL_ME" || true
printf '\n\033[1m$ ionloop measurements %s --csv > %s\033[0m\n' "$CANCEL_ME" "$DATA_DIR/$CANCEL_ME.csv"
"$IONLOOP" measurements "$CANCEL_ME" --csv > "$DATA_DIR/$CANCEL_ME.csv"
echo "($(($(wc -l < "$DATA_DIR/$CANCEL_ME.csv") - 1)) cycle records and curves written to $DATA_DIR/$CANCEL_ME.csv)"
step list
step workers
step info

if [ "$KEEP_RUNNING" = 1 ]; then
  echo
  echo "ionloopd keeps serving on $IONLOOP_SERVER (Ctrl-C stops it). Try:"
  echo "  IONLOOP_SERVER=$IONLOOP_SERVER $IONLOOP list"
  wait "$DAEMON"
fi
