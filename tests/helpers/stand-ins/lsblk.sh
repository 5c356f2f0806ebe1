#!/bin/sh
# Kiln test stand-in for a hostile host's lsblk: floods (lsblk.flood), prints a prepared answer
# (lsblk.out), or runs the real lsblk (through lsblk-own, which leaves out other tests' loop
# devices), after lsblk.sleep seconds when that file exists (a busy host).
here=$(dirname "$0")
if [ -e "$here/lsblk.sleep" ]; then sleep "$(cat "$here/lsblk.sleep")"; fi
if [ -e "$here/lsblk.flood" ]; then exec head -c "$(cat "$here/lsblk.flood")" /dev/zero; fi
if [ -e "$here/lsblk.out" ]; then exec cat "$here/lsblk.out"; fi
exec "$here/lsblk-own" "$@"
