#!/usr/bin/env bash
# Builds the Kafka request-decoder fuzzer (tests/fuzz/request_decoder_fuzz.cc) with clang++ and
# libFuzzer + ASan + UBSan, then runs it for a bounded time, seeded with the captured client requests
# in tests/data/captures/*.jsonl. Exits non-zero if the fuzzer finds a crash, a sanitizer error, a
# failed round-trip property or an allocation above 64 MiB.
#
# Usage: tests/fuzz/run_fuzz.sh [SECONDS (default 60)] [BUILD_DIR (default build-fuzz)]
# Environment: CXX (default clang++), FUZZ_JOBS (parallel compiles, default 2), FUZZ_ARGS (extra
# libFuzzer flags, e.g. -seed=1 -runs=100000).
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
seconds=${1:-60}
out=${2:-$root/build-fuzz}
case "$out" in /*) ;; *) out="$root/$out" ;; esac
cxx=${CXX:-clang++}
jobs=${FUZZ_JOBS:-2}

mkdir -p "$out/obj" "$out/corpus" "$out/seeds" "$out/artifacts"

flags=(-std=c++20 -O1 -g -fno-omit-frame-pointer -I"$root"
       -fsanitize=address,undefined -fno-sanitize-recover=undefined)

# Library sources: the codec (hand-written and generated) and the base error helpers it uses.
sources=("$root"/kafka/protocol/*.cc "$root"/kafka/protocol/generated/*.cc "$root/base/result.cc")

# Rebuild an object when its source or any codec/engine header is newer.
newest_header=$(ls -t "$root"/kafka/protocol/*.h "$root"/kafka/protocol/generated/*.h "$root"/base/*.h "$root"/kafka/format/*.h | head -1)
to_build=()
objects=()
for src in "${sources[@]}"; do
  obj="$out/obj/$(basename "${src%.cc}").o"
  objects+=("$obj")
  if [[ ! -f "$obj" || "$src" -nt "$obj" || "$newest_header" -nt "$obj" ]]; then
    to_build+=("$src")
  fi
done
if ((${#to_build[@]})); then
  echo "run_fuzz: compiling ${#to_build[@]} sources with $cxx" >&2
  # Paths must not contain spaces (the flags go through word splitting here).
  export FUZZ_CXX="$cxx" FUZZ_FLAGS="${flags[*]}"
  for src in "${to_build[@]}"; do
    printf '%s %s\n' "$src" "$out/obj/$(basename "${src%.cc}").o"
  done | xargs -P "$jobs" -L 1 sh -c '$FUZZ_CXX $FUZZ_FLAGS -fsanitize=fuzzer-no-link -c "$0" -o "$1"'
fi
"$cxx" "${flags[@]}" -fsanitize=fuzzer "$root/tests/fuzz/request_decoder_fuzz.cc" "${objects[@]}" \
  -o "$out/request_decoder_fuzz"

# Seeds: one file per captured request frame.
n=0
for f in "$root"/tests/data/captures/*.jsonl; do
  while IFS= read -r hex; do
    n=$((n + 1))
    printf '%s' "$hex" | xxd -r -p > "$out/seeds/$(basename "$f" .jsonl)-$n"
  done < <(sed -n 's/.*"request_hex":"\([0-9a-f]*\)".*/\1/p' "$f")
done
echo "run_fuzz: $n seed frames, running for ${seconds}s" >&2

cd "$out/artifacts"
# shellcheck disable=SC2086
exec "$out/request_decoder_fuzz" -max_total_time="$seconds" -max_len=4096 -malloc_limit_mb=64 \
  -timeout=10 -print_final_stats=1 -artifact_prefix="$out/artifacts/" ${FUZZ_ARGS:-} \
  "$out/corpus" "$out/seeds"
