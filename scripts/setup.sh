#!/usr/bin/env bash
# Installs every Debian package ionloop needs, then configures and builds it.
# Idempotent: packages already installed are skipped, and the build is incremental
# (ccache keeps recompiles cheap).
#
#   bash scripts/setup.sh              # Release build in ./build
#   IONLOOP_BUILD_DIR=out bash scripts/setup.sh
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

PACKAGES=(
  build-essential cmake ninja-build ccache pkg-config git
  protobuf-compiler protobuf-compiler-grpc libprotobuf-dev libgrpc++-dev
  libabsl-dev libsqlite3-dev sqlite3 libspdlog-dev libfmt-dev zlib1g-dev
  libgtest-dev libgmock-dev libboost-dev
  libtorch-dev
  # Debian's libtorch links the system BLAS; without this it is the slow reference one.
  libopenblas0-pthread
)

missing=()
for pkg in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$pkg")
  fi
done
if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}"
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

BUILD_DIR="${IONLOOP_BUILD_DIR:-build}"
JOBS="${IONLOOP_JOBS:-$(nproc)}"
cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE="${CMAKE_BUILD_TYPE:-Release}"
cmake --build "$BUILD_DIR" -j "$JOBS"
echo "setup: built into $BUILD_DIR/ (ionloopd: $BUILD_DIR/orchestrator/ionloopd, ionloop: $BUILD_DIR/clients/cli/ionloop)"
