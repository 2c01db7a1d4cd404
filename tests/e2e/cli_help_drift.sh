#!/usr/bin/env bash
# End-to-end: the documentation cannot drift from the flags (issue 16). Walks every command and subcommand's
# `--help`, collects each long flag, and checks that man/streamctl.1 documents it and
# scripts/streamctl.bash-completion completes it (and that neither names a flag no command has).
# Env: STREAMCTL = the built binary, STREAMCTL_SOURCE_DIR = the source tree.
source "$(dirname "$0")/cli_helpers.bash"
src=${STREAMCTL_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
man="$src/man/streamctl.1"
completion="$src/scripts/streamctl.bash-completion"

# subcommands PATH...: the names under "Subcommands:" in PATH's help.
subcommands() {
  "$STREAMCTL" "$@" --help 2>/dev/null | awk '/^Subcommands:/{on=1; next} on && /^  [a-z]/{print $1; next} on && !/^  /{on=0}'
}
# long_flags PATH...: every --flag in the Options section of PATH's help.
long_flags() {
  "$STREAMCTL" "$@" --help 2>/dev/null | awk '/^(Options|Positionals):/{on=1; next} /^[A-Z][a-z]*:/{on=0} on' |
    grep -oE -- '--[a-z][a-z0-9-]*' | sort -u
}

: >"$work/flags"
: >"$work/paths"
walk() {
  echo "$*" >>"$work/paths"
  long_flags "$@" >>"$work/flags"
  local sub
  for sub in $(subcommands "$@"); do walk "$@" "$sub"; done
}
walk
sort -u "$work/flags" | grep -vxE -- '--help|--version' >"$work/all"
check "the help of $(wc -l <"$work/paths") commands names flags" test "$(wc -l <"$work/all")" -gt 30

# Flags as the man page writes them: \-\-name (roff escapes dashes).
sed 's/\\-/-/g' "$man" | grep -oE -- '--[a-z][a-z0-9-]*' | sort -u >"$work/man"
grep -oE -- '--[a-z][a-z0-9-]*' "$completion" | grep -vxE -- '--help|--version' | sort -u >"$work/completion"

missing_man=$(comm -23 "$work/all" "$work/man" | tr '\n' ' ')
expect_eq "every flag in --help is in the man page" "" "$missing_man"
missing_completion=$(comm -23 "$work/all" "$work/completion" | tr '\n' ' ')
expect_eq "every flag in --help is completed" "" "$missing_completion"
# The other way: a flag the completion offers must exist (the man page may name client properties etc.).
stale_completion=$(comm -13 "$work/all" "$work/completion" | tr '\n' ' ')
expect_eq "the completion offers no flag that no command has" "" "$stale_completion"

finish
