#!/usr/bin/env bash
# Fuzzes the cycler-file parsers (instruments/cycler_files/fuzz/) for a bounded time.
#
# Configures a separate clang build (libFuzzer + AddressSanitizer + UBSan) of just
# instruments/cycler_files (it needs only Abseil) in ./build-fuzz, seeds one corpus per parser from the real exports in ../shared/data
# (heads of them, copied to a temp dir: nothing is written into the repository), runs each
# target for FUZZ_SECONDS, and exits non-zero when any target crashes, leaks, times out or
# trips a sanitizer. Crash inputs are kept in build-fuzz/artifacts/.
#
# Optional: without clang and libFuzzer it says so and exits 0 (CI does not run it).
#   bash scripts/fuzz.sh                     # 60 s per target
#   FUZZ_SECONDS=10 bash scripts/fuzz.sh     # quicker
#   bash scripts/fuzz.sh fuzz_neware_csv     # some targets only
# Needs: apt-get install -y clang-14 libclang-rt-14-dev
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

FUZZ_SECONDS="${FUZZ_SECONDS:-60}"
BUILD_DIR="${IONLOOP_FUZZ_BUILD_DIR:-build-fuzz}"
JOBS="${IONLOOP_JOBS:-2}"
DATA="${IONLOOP_SHARED_DATA_DIR:-../shared/data}"
ALL_TARGETS=(fuzz_arbin_csv fuzz_maccor_text fuzz_novonix_csv fuzz_biologic_text
             fuzz_biologic_mpr fuzz_neware_csv fuzz_neware_ndax fuzz_detect)
TARGETS=("${@:-${ALL_TARGETS[@]}}")

CXX_CLANG=""
for c in clang++-14 clang++; do
  if command -v "$c" >/dev/null 2>&1; then CXX_CLANG="$(command -v "$c")"; break; fi
done
if [ -z "$CXX_CLANG" ]; then
  echo "fuzz: no clang++ found; skipping (apt-get install -y clang-14 libclang-rt-14-dev)"
  exit 0
fi
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
printf 'extern "C" int LLVMFuzzerTestOneInput(const char*, unsigned long) { return 0; }\n' \
  >"$work/probe.cc"
if ! "$CXX_CLANG" -fsanitize=fuzzer,address "$work/probe.cc" -o "$work/probe" 2>/dev/null; then
  echo "fuzz: $CXX_CLANG cannot link libFuzzer; skipping (apt-get install -y libclang-rt-14-dev)"
  exit 0
fi

echo "fuzz: configuring $BUILD_DIR with $CXX_CLANG"
cmake -S instruments/cycler_files -B "$BUILD_DIR" -G Ninja -DCMAKE_CXX_COMPILER="$CXX_CLANG" \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo -DIONLOOP_BUILD_FUZZERS=ON >"$work/configure.log" ||
  { cat "$work/configure.log"; exit 1; }
cmake --build "$BUILD_DIR" -j "$JOBS" --target "${TARGETS[@]}"

# ---- seeds: heads of the real exports (small seeds fuzz faster), copied, never linked ----
seed() {  # seed TARGET NAME FILE LINES
  local dir="$work/corpus/$1"
  mkdir -p "$dir"
  [ -f "$3" ] || return 0
  if [ "$4" = all ]; then cp "$3" "$dir/$2"; else head -n "$4" "$3" >"$dir/$2"; fi
}
B="$DATA/beep_fixtures"
C="$DATA/cellpy_fixtures"
for t in "${ALL_TARGETS[@]}"; do mkdir -p "$work/corpus/$t"; done
seed fuzz_arbin_csv arbin.csv "$B/FastCharge_000025_CH8.csv" all
seed fuzz_maccor_text prediag.034 "$B/PreDiag_000229_000229_truncated.034" 120
seed fuzz_maccor_text eis.041 "$B/maccor_test_file_4267-66-6519.041" all
seed fuzz_maccor_text cellpy.txt "$C/maccor_001.txt" 60
seed fuzz_novonix_csv novonix.csv "$B/test_Nova_Form-CH01-01_short.csv" 120
seed fuzz_biologic_text mb.csv "$B/test_loopsnewoutput_MB_CE1_short10k.csv" 60
seed fuzz_neware_csv neware.csv "$C/neware_uio.csv" 150
# .mpr: the same file with its data module cut to 40 points (lengths patched to match).
if [ -f "$C/biol.mpr" ] && command -v python3 >/dev/null 2>&1; then
  python3 - "$C/biol.mpr" "$work/corpus/fuzz_biologic_mpr/biol40.mpr" <<'EOF'
import struct, sys
d = bytearray(open(sys.argv[1], 'rb').read())
pos, out = 52, bytearray(d[:52])
while pos < len(d):
    name = bytes(d[pos + 6:pos + 16])
    length = struct.unpack_from('<I', d, pos + 41)[0]
    hdr = 57
    body = d[pos + hdr:pos + hdr + length]
    if name.startswith(b'VMP data'):
        n = struct.unpack_from('<I', body, 0)[0]
        record = (length - 405) // n
        body = bytearray(body[:405 + 40 * record])
        struct.pack_into('<I', body, 0, 40)
    h = bytearray(d[pos:pos + hdr])
    struct.pack_into('<I', h, 41, len(body))
    out += h + body
    pos += hdr + length
open(sys.argv[2], 'wb').write(out)
EOF
fi
# .ndax: a small archive re-zipped from the fixture's first pages of each .ndc table.
if [ -f "$C/20260302_IFE_BTS85_2_9_8_1.ndax" ] && command -v python3 >/dev/null 2>&1; then
  python3 - "$C/20260302_IFE_BTS85_2_9_8_1.ndax" \
    "$work/corpus/fuzz_neware_ndax/small.ndax" <<'EOF'
import sys, zipfile
src = zipfile.ZipFile(sys.argv[1])
keep = {'VersionInfo.xml': None, 'data.ndc': 6 * 4096, 'data_runInfo.ndc': 2 * 4096,
        'data_step.ndc': None}
with zipfile.ZipFile(sys.argv[2], 'w', zipfile.ZIP_DEFLATED) as out:
    for name, size in keep.items():
        data = src.read(name)
        out.writestr(name, data if size is None else data[:size])
EOF
fi
for t in fuzz_arbin_csv fuzz_maccor_text fuzz_novonix_csv fuzz_biologic_text \
         fuzz_biologic_mpr fuzz_neware_csv fuzz_neware_ndax; do
  cp "$work/corpus/$t"/* "$work/corpus/fuzz_detect/" 2>/dev/null || true
done
[ -f "$C/20160805_test001_45_cc_01.res" ] && head -c 4096 "$C/20160805_test001_45_cc_01.res" \
  >"$work/corpus/fuzz_detect/head.res"
[ -f "$C/20260302_IFE_BTS85_2_9_8_1.ndax" ] && head -c 4096 "$C/20260302_IFE_BTS85_2_9_8_1.ndax" \
  >"$work/corpus/fuzz_detect/head.ndax"
[ -d "$B" ] || echo "fuzz: $DATA not found: starting from empty corpora"

# ---- run -----------------------------------------------------------------------------
mkdir -p "$BUILD_DIR/artifacts"
failed=0
summary=()
for t in "${TARGETS[@]}"; do
  echo "fuzz: $t for ${FUZZ_SECONDS}s"
  log="$work/$t.log"
  set +e
  "$BUILD_DIR/fuzz/$t" "$work/corpus/$t" \
    -max_total_time="$FUZZ_SECONDS" -timeout=10 -rss_limit_mb=2048 -max_len=131072 \
    -print_final_stats=1 -artifact_prefix="$BUILD_DIR/artifacts/$t-" >"$log" 2>&1
  rc=$?
  set -e
  runs="$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)"
  rate="$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)"
  cov="$(grep -o 'cov: [0-9]*' "$log" | tail -1 | cut -d' ' -f2)"
  if [ "$rc" -ne 0 ]; then
    failed=1
    summary+=("$t: FAILED (exit $rc) after ${runs:-?} runs; see below and $BUILD_DIR/artifacts/")
    grep -E 'ERROR|runtime error|SUMMARY|Test unit written' "$log" | head -20 || true
  else
    summary+=("$t: ok, ${runs:-?} runs, ${rate:-?} exec/s, coverage ${cov:-?} edges")
  fi
done
echo
echo "fuzz: results (${FUZZ_SECONDS}s per target)"
printf '  %s\n' "${summary[@]}"
exit "$failed"
