#!/bin/sh
# Kiln test stand-in for hdparm. -N DEVICE: a loop device is an ATA drive with no host protected
# area (native max = its size in sectors), unless hdparm.map gives it more native sectors (an HPA)
# or "none" (a bridge that does not pass the command through).
here=$(dirname "$0")
echo "$*" >> "$here/hdparm.calls"
# A drive's own sanitize (sanitize.map): sanitize-drive.cjs; an unmapped device gets the real hdparm.
case "$1" in -I|--sanitize-status|--yes-i-know-what-i-am-doing) exec node "$here/sanitize-drive.cjs" ata "$@" ;; esac
[ "$1" = "-N" ] && [ $# -eq 2 ] || { echo "stand-in hdparm: only -N DEVICE" >&2; exit 2; }
device=$2
sectors=$(cat "/sys/class/block/$(basename "$device")/size" 2>/dev/null) || { echo "$device: No such file or directory" >&2; exit 2; }
native=$(awk -v d="$device" '$1 == d { print $2 }' "$here/hdparm.map" 2>/dev/null | tail -n 1)
if [ "$native" = "none" ]; then
  printf '\n%s:\n' "$device"
  echo "SG_IO: bad/missing sense data, sb[]:  70 00 05 00 00 00 00 0a 00 00 00 00 20 00 00 00" >&2
  exit 5
fi
[ -n "$native" ] || native=$sectors
state=disabled
[ "$native" -gt "$sectors" ] && state=enabled
printf '\n%s:\n max sectors   = %s/%s, HPA is %s\n' "$device" "$sectors" "$native" "$state"
