#!/usr/bin/python3 -IS
# Kiln test stand-in for lsblk: the real lsblk, with the loop devices of other tests left out
# (those whose backing file is not under a directory listed in lsblk.own). Everything else it
# prints, its exit code and its errors are the real ones. Python, not node: inventories list a
# host's disks hundreds of times a run, and node's start costs about 0.1 s of CPU, Python's 0.02 s.
import json
import os
import re
import subprocess
import sys

here = os.path.dirname(os.path.abspath(__file__))


def own_dirs():
    try:
        with open(os.path.join(here, "lsblk.own"), encoding="utf-8") as f:
            return [line for line in f.read().split("\n") if line]
    except FileNotFoundError:
        return None  # no list: every device is the test's (a test that set up no loop devices)


def is_own(dirs, device):
    name = os.path.basename(str(device))
    if dirs is None or not re.fullmatch(r"loop\d+", name):
        return True
    try:
        with open(f"/sys/block/{name}/loop/backing_file", encoding="utf-8") as f:
            backing = f.read().strip()
    except OSError:
        return False  # not attached
    return any(backing.startswith(f"{d}/") for d in dirs)


real = subprocess.run(["/usr/bin/lsblk", *sys.argv[1:]], capture_output=True)
sys.stderr.buffer.write(real.stderr)
try:
    answer = json.loads(real.stdout)
except ValueError:
    answer = None
if isinstance(answer, dict) and isinstance(answer.get("blockdevices"), list):
    dirs = own_dirs()
    answer["blockdevices"] = [
        d for d in answer["blockdevices"] if is_own(dirs, d.get("path") or d.get("kname") or d.get("name") or "")
    ]
    sys.stdout.write(json.dumps(answer, separators=(",", ":"), ensure_ascii=False) + "\n")
else:
    sys.stdout.buffer.write(real.stdout)
sys.exit(real.returncode if real.returncode >= 0 else 1)
