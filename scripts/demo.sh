#!/usr/bin/env bash
# The main job, for now: start ionloopd on the embedded default (SQLite in
# ./ionloop-data), submit one job of each kind with the ionloop CLI, and show what the
# orchestrator holds. Later issues grow this into a whole closed-loop campaign.
#
#   bash scripts/demo.sh                 # runs the tour, then stops ionloopd
#   bash scripts/demo.sh --keep-running  # leaves ionloopd serving until Ctrl-C
#
# Jobs are submitted with idempotency keys, so running the demo twice does not
# duplicate them. No workers exist yet: jobs stay QUEUED until the worker issue lands.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

BUILD_DIR="${IONLOOP_BUILD_DIR:-build}"
DATA_DIR="${IONLOOP_DATA_DIR:-./ionloop-data}"
KEEP_RUNNING=0
[ "${1:-}" = "--keep-running" ] && KEEP_RUNNING=1

if [ ! -x "$BUILD_DIR/orchestrator/ionloopd" ] || [ ! -x "$BUILD_DIR/clients/cli/ionloop" ]; then
  bash scripts/setup.sh
fi
IONLOOPD="$BUILD_DIR/orchestrator/ionloopd"
IONLOOP="$BUILD_DIR/clients/cli/ionloop"

mkdir -p "$DATA_DIR"
rm -f "$DATA_DIR/ionloopd.address"
"$IONLOOPD" --listen=127.0.0.1:0 --data-dir="$DATA_DIR" --log-level=warn &
DAEMON=$!
stop() { kill -TERM "$DAEMON" 2>/dev/null && wait "$DAEMON" 2>/dev/null || true; }
trap stop EXIT
for _ in $(seq 1 300); do
  [ -s "$DATA_DIR/ionloopd.address" ] && break
  kill -0 "$DAEMON" 2>/dev/null || { echo "demo: ionloopd failed to start" >&2; exit 1; }
  sleep 0.1
done
export IONLOOP_SERVER="$(cat "$DATA_DIR/ionloopd.address")"

step() { printf '\n\033[1m$ ionloop %s\033[0m\n' "$*"; "$IONLOOP" "$@"; }

echo "ionloopd serving on $IONLOOP_SERVER, store $DATA_DIR/ionloop.db"
step info
for file in examples/jobs/*.json; do
  step submit "$file" --idempotency-key "demo-$(basename "$file" .json)"
done
step submit --cycling --ion na --positive NVPF --negative hard-carbon --capacity-ah 0.004 \
  --charge-c 2 --discharge-c 1 --v-min 2.0 --v-max 4.25 --temperature-c 25 --max-cycles 800 \
  --label campaign=demo --idempotency-key demo-quick-na
step list --kind cycling
CANCEL_ME="$("$IONLOOP" list --output json --label campaign=demo |
  sed -n 's/.*"id": *"\(job-[0-9]*\)".*/\1/p' | head -n 1)"
step status "$CANCEL_ME"
step cancel "$CANCEL_ME" --reason demo || true
step watch "$CANCEL_ME" || true
step measurements "$CANCEL_ME" --csv
step list --state queued,cancelled
step info

if [ "$KEEP_RUNNING" = 1 ]; then
  echo
  echo "ionloopd keeps serving on $IONLOOP_SERVER (Ctrl-C stops it). Try:"
  echo "  IONLOOP_SERVER=$IONLOOP_SERVER $IONLOOP list"
  wait "$DAEMON"
fi
