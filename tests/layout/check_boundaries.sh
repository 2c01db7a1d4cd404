#!/usr/bin/env bash
# Module boundaries (DESIGN.md): dependencies point down only. For every source file under a module, each
# project #include must name a module that module may use. Prints each violation as file:line and exits 1.
# Usage: check_boundaries.sh PROJECT_ROOT      (also proves itself on a planted violation first)
set -euo pipefail
root=${1:?usage: check_boundaries.sh PROJECT_ROOT}

# module (a folder) -> the modules its files may include (itself always allowed). Longest prefix wins.
declare -A allowed=(
  [base]=""
  [kafka/format]="base"
  [kafka/protocol]="base kafka/format"
  [kafka/client]="base kafka/format kafka/protocol net security"
  [kafka/rdkafka]="base kafka/format"
  [raft]="base"
  [net]="base security"
  [security]="base"
  [engine]="base kafka/format"
  [server]="base kafka/format kafka/protocol kafka/client engine net security"
  [cluster]="base kafka/format kafka/protocol kafka/client engine net security raft server"
  [cli]="base kafka/format kafka/protocol kafka/client kafka/rdkafka engine net security raft server cluster"
)
modules=("${!allowed[@]}")

module_of() {  # a path relative to the root -> its module, or nothing
  local path=$1 best="" m
  for m in "${modules[@]}"; do
    if [[ $path == "$m/"* && ${#m} -gt ${#best} ]]; then best=$m; fi
  done
  printf '%s' "$best"
}

check_tree() {  # root -> prints violations, returns 1 if any
  local tree=$1 bad=0 file rel mod line num inc target ok a
  while IFS= read -r file; do
    rel=${file#"$tree"/}
    mod=$(module_of "$rel")
    [[ -n $mod ]] || continue
    while IFS=: read -r num line; do
      inc=$(sed -E 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*"([^"]+)".*/\1/' <<<"$line")
      target=$(module_of "$inc")
      [[ -n $target && $target != "$mod" ]] || continue
      ok=0
      for a in ${allowed[$mod]}; do [[ $a == "$target" ]] && ok=1; done
      if ((!ok)); then
        echo "$rel:$num: $mod must not include $inc ($target)"
        bad=1
      fi
    done < <(grep -nE '^[[:space:]]*#[[:space:]]*include[[:space:]]*"' "$file" || true)
  done < <(find "$tree" \( -name '*.h' -o -name '*.cc' -o -name '*.inc' \) -not -path '*/build*' | sort)
  return $bad
}

# The check must be able to fail: a planted engine -> server include is reported.
planted=$(mktemp -d)
trap 'rm -rf "$planted"' EXIT
mkdir -p "$planted/engine" "$planted/server"
printf '#include "server/broker.h"\n' >"$planted/engine/log.cc"
printf '#include "engine/log.h"\n' >"$planted/server/broker.cc"
if out=$(check_tree "$planted"); then
  echo "check_boundaries: self-test failed: a planted engine -> server include was not reported" >&2
  exit 2
fi
[[ $out == *"engine/log.cc:1: engine must not include server/broker.h"* ]] || {
  echo "check_boundaries: self-test reported the wrong thing: $out" >&2; exit 2; }

if check_tree "$root"; then
  echo "module boundaries: ok (${#modules[@]} modules)"
else
  echo "check_boundaries: includes cross a forbidden module boundary (see DESIGN.md)" >&2
  exit 1
fi
