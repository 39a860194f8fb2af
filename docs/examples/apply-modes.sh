#!/bin/sh
# apply-modes.sh DIR: give a copy of legacy-server/ the file modes listed in
# legacy-server.modes (world-writable uploads, cache and config), which git
# cannot store. Run it on a copy, not on the checkout:
#
#   cp -a docs/examples/legacy-server /tmp/legacy && sh docs/examples/apply-modes.sh /tmp/legacy
set -eu
dir=${1:?usage: apply-modes.sh DIR}
modes="$(dirname "$0")/legacy-server.modes"
grep -v '^#' "$modes" | while read -r mode path; do
	[ -n "$mode" ] || continue
	chmod "$mode" "$dir/$path"
done
