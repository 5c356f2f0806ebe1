#!/bin/sh
# Kiln test stand-in for nvme-cli: id-ctrl, sanitize and sanitize-log of the drives in sanitize.map
# (sanitize-drive.cjs); any other device goes to the real nvme.
exec node "$(dirname "$0")/sanitize-drive.cjs" nvme "$@"
