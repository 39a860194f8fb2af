#!/usr/bin/env bash
# bench/shim/ab.sh — two shims on one Apache → shim → php-fpm setup, interleaved.
#
# Compares the CPU each shim spends per request (and the throughput of the
# whole chain) with everything else identical: the setup compare.sh builds
# (hello.php under the 3-level .htaccess chain, php-fpm pm=static, Apache
# event with SetHandler to the shim), one Apache and one php-fpm pool, and
# the two shims restarted in turn on the same socket. Use it to measure a
# change to the shim, or a setting such as GOMAXPROCS, on a shared machine
# where absolute numbers drift: each round runs A then B back to back.
#
#   bench/shim/ab.sh [-r ROUNDS] [-d SECONDS] [-s hello|work] [-E] A B
#     A, B: a shim binary, optionally followed by :N to run it with GOMAXPROCS=N
#     (e.g. /tmp/old/modphp-migrate ./modphp-migrate:1)
#     -r rounds (7)  -d seconds per load run (4)  -E enablereuse=on towards the shim
#     (load: wrk, or bench/shim/load where wrk is not installed)
#
# Prints, for A and B, the medians of req/s and of the µs of CPU per request
# spent by Apache, php-fpm's pool and the shim, and B's ratios to A: of the
# medians, and the median and range of each round's B over that round's A
# (the paired ratio, steadier when the machine's load drifts).
set -euo pipefail
trap 'echo "ab.sh: line $LINENO: \"$BASH_COMMAND\" failed" >&2' ERR

declare -A BIN PROCS
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"
bench_opts 21 "$@"
[ ${#ARGS[@]} = 2 ] || { sed -n '2,21p' "$0"; exit 2; }
set -- "${ARGS[@]}"
add_shim ab.sh A "$1"
add_shim ab.sh B "$2"
chain_up ab.sh
declare -A R CA CF CS RPS SCPU
QR="" QS=""
for i in $(seq "$ROUNDS"); do
	line="round $i:"
	for k in A B; do
		measure_shim ab.sh "$k"
		R[$k]+="$M_RPS " CA[$k]+="$M_CA " CF[$k]+="$M_CF " CS[$k]+="$M_CS "
		line+=" $k $M_RPS req/s cpu $M_CA+$M_CF+$M_CS us |"
		RPS[$k]=$M_RPS SCPU[$k]=$M_CS
	done
	# Paired ratios: B against the A run just before it.
	QR+="$(awk -v a="${RPS[A]}" -v b="${RPS[B]}" 'BEGIN {printf "%.3f", b / a}') "
	QS+="$(awk -v a="${SCPU[A]}" -v b="${SCPU[B]}" 'BEGIN {printf "%.3f", b / a}') "
	echo "$line" >&2
done
echo
echo "| shim | req/s (median of $ROUNDS) | CPU µs/request: Apache | php-fpm | shim |"
echo "|---|---|---|---|---|"
declare -A M
for k in A B; do
	M[$k]=$(median ${R[$k]})
	M[$k.s]=$(median ${CS[$k]})
	echo "| $k: ${BIN[$k]}${PROCS[$k]:+ (GOMAXPROCS=${PROCS[$k]})} | ${M[$k]} | $(median ${CA[$k]}) | $(median ${CF[$k]}) | ${M[$k.s]} |"
done
awk -v ra="${M[A]}" -v rb="${M[B]}" -v sa="${M[A.s]}" -v sb="${M[B.s]}" \
	'BEGIN {printf "\nB/A: throughput %.3f, shim CPU per request %.3f\n", rb/ra, sb/sa}'
range() { printf '%s\n' "$@" | sort -g | sed -n '1p;$p' | paste -sd- -; }
echo "B/A per round (paired): throughput median $(median $QR) (range $(range $QR)), shim CPU per request median $(median $QS) (range $(range $QS))"
