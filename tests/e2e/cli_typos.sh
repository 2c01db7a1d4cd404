#!/usr/bin/env bash
# End-to-end: typos get help. An unknown command, subcommand or flag is named, with the closest real one
# suggested (exit 2); a command group alone (`streamctl topic`) lists its subcommands; `streamctl help
# [COMMAND...]` prints that command's help. Same in served mode (nothing here reaches a backend).
source "$(dirname "$0")/cli_helpers.bash"

expect_exit "unknown command" 2 sc consme x
stderr_has "names it and suggests consume" "unknown command 'consme' for 'streamctl' (did you mean 'consume'?)"
expect_exit "unknown topic subcommand" 2 sc topic lst
stderr_has "suggests list" "unknown subcommand 'lst' for 'streamctl topic' (did you mean 'list'?)"
expect_exit "unknown group subcommand" 2 sc group descrbe g
stderr_has "suggests describe" "unknown subcommand 'descrbe' for 'streamctl group' (did you mean 'describe'?)"
expect_exit "transposed letters" 2 sc topic lsit
stderr_has "suggests list for lsit" "(did you mean 'list'?)"
expect_exit "after global flags" 2 sc --data-dir "$work/data" -q topic craete x
stderr_has "suggests create" "(did you mean 'create'?)"
expect_exit "nothing close" 2 sc kubernetes
stderr_has "no suggestion when nothing is close" "unknown command 'kubernetes' for 'streamctl'"
if grep -q "did you mean" "$work/err"; then fail "suggested something for 'kubernetes'"; else pass "no far-fetched suggestion"; fi

expect_exit "unknown long flag" 2 sc consume t --formt '%v'
stderr_has "names the flag and suggests --format" "unknown flag '--formt' for 'streamctl consume' (did you mean '--format'?)"
expect_exit "unknown flag with =value" 2 sc produce t --oversise=skip
stderr_has "suggests --oversize" "(did you mean '--oversize'?)"
expect_exit "a global flag misspelt after the command" 2 sc topic list --jsn
stderr_has "suggests --json" "(did you mean '--json'?)"
expect_exit "unknown short flag in a group" 2 sc consume t -qy
stderr_has "names the short flag" "unknown flag '-y' for 'streamctl consume'"

# Values that look like flags are values, not typos.
echo x | sc -q produce t
expect_exit "negative offset value" 0 sc consume t -o -1
expect_exit "-X value" 0 sc -X fetch.wait.max.ms=10 consume t -o beginning

for group in topic group log cluster; do
  expect_exit "bare '$group' lists its subcommands" 2 sc "$group"
  stderr_has "'$group' says it needs a subcommand" "'streamctl $group' needs a subcommand:"
done
expect_exit "bare topic" 2 sc topic
for sub in create list describe delete alter add-partitions; do stderr_has "topic lists $sub" "  $sub "; done

expect_exit "help" 0 sc help
expect_eq "help is the top-level help" "$(sc --help)" "$(cat "$work/out")"
expect_exit "help consume" 0 sc help consume
expect_eq "help consume = consume --help" "$(sc consume --help)" "$(cat "$work/out")"
expect_exit "help topic create" 0 sc help topic create
expect_eq "help topic create = topic create --help" "$(sc topic create --help)" "$(cat "$work/out")"
expect_exit "help of a typo" 2 sc help consme
stderr_has "help names the typo" "(did you mean 'consume'?)"

finish
