#!/usr/bin/env bash
# lintab.sh: two modphp-migrate binaries on one tree, interleaved, for an
# A/B of a change to the loader or the rules.
#
#   bench/lintab.sh [-r ROUNDS] A B TREE [LINT ARGS...]
#
#   A, B         modphp-migrate binaries (e.g. one built before a change)
#   TREE         a tree written by bench/gentree
#   -r ROUNDS    rounds (default 9); each runs A and B once, alternating
#                which goes first
#   LINT ARGS    replace the default "--no-permissions --format=json"
#
# Each run is measured with /usr/bin/time -f '%e %U %S %M'. Prints, for A and
# B, the medians of wall time, CPU time (user + sys) and peak RSS, and B/A.
# On a shared machine CPU time and RSS move much less than wall time.
set -uo pipefail

rounds=9
while getopts 'r:h' opt; do
	case $opt in
	r) rounds=$OPTARG ;;
	*) sed -n '2,/^set -uo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 2 ;;
	esac
done
shift $((OPTIND - 1))
[ $# -ge 3 ] || { sed -n '2,/^set -uo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 2; }
a=$1 b=$2 tree=$3
shift 3
args=("$@")
[ ${#args[@]} -gt 0 ] || args=(--no-permissions --format=json)
[ -x /usr/bin/time ] || { echo "lintab.sh: /usr/bin/time (GNU time) not found" >&2; exit 1; }

res=$(mktemp -d "${TMPDIR:-/tmp}/lintab.XXXXXX") || exit 1
trap 'rm -rf "$res"' EXIT

run() { # run ID BINARY: one measured run; exit status 0 or 1 (findings) is success
	/usr/bin/time -f '%e %U %S %M' -o "$res/t" "$2" lint "${args[@]}" "$tree" >/dev/null 2>"$res/err"
	local rc=$?
	if [ $rc -gt 1 ]; then
		echo "lintab.sh: $2 exited $rc: $(head -n 1 "$res/err")" >&2
		exit 1
	fi
	tail -n 1 "$res/t" | awk '{ printf "%s %.2f %d\n", $1, $2 + $3, $4 }' >>"$res/$1"
}

for ((i = 1; i <= rounds; i++)); do
	if ((i % 2)); then run A "$a"; run B "$b"; else run B "$b"; run A "$a"; fi
	echo "   round $i/$rounds done" >&2
done

median() { # median ID COLUMN
	awk -v c="$2" '{ print $c }' "$res/$1" | sort -g | awk '
		{ v[NR] = $1 }
		END { if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

echo "| | wall (s) | CPU user+sys (s) | peak RSS (MB) |"
echo "|---|---|---|---|"
for id in A B; do
	awk -v id=$id -v w="$(median $id 1)" -v c="$(median $id 2)" -v m="$(median $id 3)" \
		'BEGIN { printf "| %s | %.2f | %.2f | %.0f |\n", id, w, c, m / 1024 }'
done
awk -v w1="$(median A 1)" -v w2="$(median B 1)" -v c1="$(median A 2)" -v c2="$(median B 2)" \
	-v m1="$(median A 3)" -v m2="$(median B 3)" \
	'BEGIN { printf "| B/A | %.2f | %.2f | %.2f |\n", w2 / w1, c2 / c1, m2 / m1 }'
echo "(medians of $rounds interleaved rounds, $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg))"
