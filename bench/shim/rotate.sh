#!/usr/bin/env bash
# bench/shim/rotate.sh — several shims on one Apache → shim → php-fpm setup,
# in rotation: ab.sh for more than two binaries, to find which of a series
# of builds (e.g. one per merge) made the shim slower.
#
#   bench/shim/rotate.sh [-r ROUNDS] [-d SECONDS] [-s hello|work] [-E] S0 S1 [S2...]
#     Sn: a shim binary, optionally followed by :N to run it with GOMAXPROCS=N
#     -r rounds (7)  -d seconds per load run (4)  -E enablereuse=on towards the shim
#
# Each round runs every shim once, starting one further along the list than
# the round before, so that no shim always runs first or after the same
# one. Prints, for each shim, the medians of req/s and of the shim's µs of
# CPU per request, and the median and range of each round's value over
# that round's S0 (paired ratios). Setup and load as in ab.sh.
set -euo pipefail
trap 'echo "rotate.sh: line $LINENO: \"$BASH_COMMAND\" failed" >&2' ERR

declare -A BIN PROCS
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"
bench_opts 15 "$@"
[ ${#ARGS[@]} -ge 2 ] || { sed -n '2,15p' "$0"; exit 2; }
set -- "${ARGS[@]}"
KEYS=()
i=0
for spec in "$@"; do
	k=K$i; i=$((i+1)); KEYS+=($k)
	add_shim rotate.sh "$k" "$spec"
done
chain_up rotate.sh
declare -A R CS RPS SCPU
declare -A QR QS
for i in $(seq "$ROUNDS"); do
	line="round $i:"
	off=$(( (i - 1) % ${#KEYS[@]} ))
	ORDER=("${KEYS[@]:$off}" "${KEYS[@]:0:$off}")
	for k in "${ORDER[@]}"; do
		measure_shim rotate.sh "$k"
		R[$k]+="$M_RPS " CS[$k]+="$M_CS "
		line+=" S${k#K} $M_RPS req/s shim $M_CS us |"
		RPS[$k]=$M_RPS SCPU[$k]=$M_CS
	done
	for k in "${KEYS[@]}"; do
		QR[$k]+="$(awk -v a="${RPS[K0]}" -v b="${RPS[$k]}" 'BEGIN {printf "%.3f", b / a}') "
		QS[$k]+="$(awk -v a="${SCPU[K0]}" -v b="${SCPU[$k]}" 'BEGIN {printf "%.3f", b / a}') "
	done
	echo "$line" >&2
done
range() { printf '%s\n' "$@" | sort -g | sed -n '1p;$p' | paste -sd- -; }
echo
echo "| shim | req/s (median of $ROUNDS) | shim CPU µs/request | paired req/s over S0, median (range) | paired shim CPU over S0 |"
echo "|---|---|---|---|---|"
for k in "${KEYS[@]}"; do
	echo "| S${k#K}: ${BIN[$k]}${PROCS[$k]:+ (GOMAXPROCS=${PROCS[$k]})} | $(median ${R[$k]}) | $(median ${CS[$k]}) | $(median ${QR[$k]}) ($(range ${QR[$k]})) | $(median ${QS[$k]}) ($(range ${QS[$k]})) |"
done
