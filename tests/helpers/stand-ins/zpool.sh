#!/bin/sh
# Kiln test stand-in for zpool: prints the recorded status, no importable pools.
here=$(dirname "$0")
echo "$*" >> "$here/zpool.calls"
case "$1" in
  status) if [ -s "$here/zpool.status" ]; then cat "$here/zpool.status"; else echo "no pools available"; fi ;;
  import) echo "no pools available to import"; exit 1 ;;
  *) exit 2 ;;
esac
