#!/bin/sh
# Kiln test stand-in for smartctl: smartctl-replay.cjs answers. This front logs the call and answers
# a read (`-x -j /dev/NAME`, what inventories and SMART polls ask, hundreds of times a run) from
# smartctl-cache/NAME.json when the replay left one: it does so only when no self-test was
# running, `-t` and `-X` remove the device's copy, and the helpers that change a control file
# (tests/helpers/stand-ins.ts) remove them all. A test that changes a drive's SMART maps it to
# another file. A node start costs about 0.1 s of CPU; this path forks once, for cat.
here=${0%/*}
printf '%s\n' "$*" >> "$here/smartctl.calls"
replay() { exec node "$here/smartctl-replay.cjs" "$@"; }
[ $# -eq 3 ] && [ "$1" = -x ] && [ "$2" = -j ] || replay "$@"
dev=$3 name=${3##*/}
[ "$dev" = "/dev/$name" ] || replay "$@"
# Another test's loop device (its number reused): the replay's own error, never a copy.
case $name in
  loop[0-9]*)
    if [ -f "$here/lsblk.own" ]; then
      read -r backing < "/sys/block/$name/loop/backing_file" 2>/dev/null || replay "$@"
      own=no
      while IFS= read -r dir; do
        case $backing in "$dir"/*) own=yes ;; esac
      done < "$here/lsblk.own"
      [ "$own" = yes ] || replay "$@"
    fi
    ;;
esac
cache="$here/smartctl-cache/$name.json"
# A copy removed between the test and the read: the replay answers.
[ -f "$cache" ] && cat "$cache" 2>/dev/null && exit 0
export KILN_SMARTCTL_CACHE="$cache"
replay "$@"
