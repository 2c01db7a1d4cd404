#!/usr/bin/env bash
# Builds the SASL/SCRAM parser fuzzer (tests/fuzz/sasl_fuzz.cc) with clang++ and libFuzzer + ASan + UBSan,
# then runs it for a bounded time from a few hand-written seeds (one per target). Exits non-zero on a crash,
# a sanitizer error, a failed property or an allocation above 64 MiB.
#
# Usage: tests/fuzz/run_sasl_fuzz.sh [SECONDS (default 60)] [BUILD_DIR (default build-fuzz-sasl)]
# Environment: CXX (default clang++), FUZZ_ARGS (extra libFuzzer flags, e.g. -seed=1 -runs=100000).
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
seconds=${1:-60}
out=${2:-$root/build-fuzz-sasl}
case "$out" in /*) ;; *) out="$root/$out" ;; esac
cxx=${CXX:-clang++}

mkdir -p "$out/corpus" "$out/seeds" "$out/artifacts"
flags=(-std=c++20 -O1 -g -fno-omit-frame-pointer -I"$root"
       -fsanitize=address,undefined -fno-sanitize-recover=undefined)
sources=("$root/security/scram.cc" "$root/security/sasl.cc" "$root/base/result.cc")

binary="$out/sasl_fuzz"
rebuild=0
[[ -x "$binary" ]] || rebuild=1
for f in "${sources[@]}" "$root/tests/fuzz/sasl_fuzz.cc" "$root"/security/*.h "$root"/base/result.h; do
  [[ "$f" -nt "$binary" ]] && rebuild=1
done
if ((rebuild)); then
  echo "run_sasl_fuzz: compiling with $cxx" >&2
  "$cxx" "${flags[@]}" -fsanitize=fuzzer "$root/tests/fuzz/sasl_fuzz.cc" "${sources[@]}" -lcrypto -o "$binary"
fi

# Seeds: the first byte picks the target (see sasl_fuzz.cc).
seed() { printf "$2" > "$out/seeds/$1"; }
seed client-first '\000n,,n=user,r=rOprNGfwEbeRWgbNEkqO'
seed client-first-authzid '\000y,a=us=2Cer,n=us=3Der,r=abc,tokenauth=true'
seed client-final '\001c=biws,r=rOprNGfwEbeRWgbNEkqO%%hvYDpWUa2RaTCAfuxFIlj,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ='
seed plain '\002\000user\000pencil'
seed plain-authzid '\002user\000user\000wrong'
seed exchange '\003n,,n=user,r=abc\nc=biws,r=abcsrv,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ='
seed server-first '\004r=cnonceSRV,s=c2FsdA==,i=4096'
seed roundtrip '\005a,b=c=2C'

echo "run_sasl_fuzz: running for ${seconds}s" >&2
cd "$out/artifacts"
# shellcheck disable=SC2086
exec "$binary" -max_total_time="$seconds" -max_len=2048 -malloc_limit_mb=64 -timeout=10 \
  -print_final_stats=1 -artifact_prefix="$out/artifacts/" ${FUZZ_ARGS:-} "$out/corpus" "$out/seeds"
