#!/usr/bin/env bash
# compare.sh: time modphp-migrate against the tools an admin would otherwise
# use, on trees written by bench/gentree, and print a markdown table.
#
#   bench/compare.sh [-r RUNS] [-n VHOSTS] [-a HTACCESS] [-f FILES] [-k]
#
#   -r RUNS      runs per command, interleaved (default 5)
#   -n VHOSTS    vhosts in the config tree (default 10000: ~200k lines, ~7 MB)
#   -a HTACCESS  docroots with a .htaccess in that tree (default 500)
#   -f FILES     files in the docroot of the permission-walk tree (default 100000)
#   -k           keep the work directory (trees, binaries, stderr of each run)
#
# Pairs measured, baseline first:
#   parse        apache2 -t            vs  modphp-migrate dump --format=json
#   lint         apache2 -t            vs  modphp-migrate lint --no-permissions --format=json TREE
#   permissions  find ROOT -perm -o+w  vs  modphp-migrate lint --format=json PERMTREE (10 vhosts, FILES files)
# (dump gets TREE/httpd.conf and loads the whole tree; lint gets the directory,
# because lint FILE checks that one file on its own.)
# Wall time, peak RSS and CPU time (user + sys) come from /usr/bin/time
# -f '%e %M %U %S'; the table shows medians and modphp-migrate/baseline
# ratios. On a shared machine CPU time and RSS move less than wall time. A command that fails (a
# subcommand or flag that does not exist yet, a crash) is reported as a
# "failed" row; the script goes on. modphp-migrate exit status 1 means
# "findings" and counts as success.
#
# Needs: go, apache2 (Debian's /usr/sbin/apache2 with /usr/lib/apache2/modules),
# GNU time at /usr/bin/time. Progress goes to stderr, the table to stdout.
set -uo pipefail

runs=5 vhosts=10000 htaccess=500 files=100000 keep=0
while getopts 'r:n:a:f:kh' opt; do
	case $opt in
	r) runs=$OPTARG ;;
	n) vhosts=$OPTARG ;;
	a) htaccess=$OPTARG ;;
	f) files=$OPTARG ;;
	k) keep=1 ;;
	h) sed -n '2,/^set -uo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
	*) exit 2 ;;
	esac
done

cd "$(dirname "$0")/.." || exit 1
log() { printf '%s\n' "$*" >&2; }
die() { log "compare.sh: $*"; exit 1; }

apache=$(command -v apache2 || echo /usr/sbin/apache2)
[ -x "$apache" ] || die "apache2 not found"
[ -x /usr/bin/time ] || die "/usr/bin/time (GNU time) not found"

work=$(mktemp -d "${TMPDIR:-/tmp}/modphp-bench.XXXXXX") || die "mktemp failed"
if [ "$keep" = 1 ]; then
	log "work directory: $work"
else
	trap 'rm -rf "$work"' EXIT
fi
mkdir -p "$work/res" "$work/err"

log "== building modphp-migrate and gentree"
if ! go build -o "$work/modphp-migrate" ./cmd/modphp-migrate; then
	# Keep measuring the baselines; every modphp-migrate row reports the failure.
	log "compare.sh: go build ./cmd/modphp-migrate failed; its rows will say so"
	printf '#!/bin/sh\necho "go build ./cmd/modphp-migrate failed" >&2\nexit 3\n' >"$work/modphp-migrate"
	chmod +x "$work/modphp-migrate"
fi
go build -o "$work/gentree" ./bench/gentree || die "go build ./bench/gentree failed"
mm=$work/modphp-migrate

log "== generating trees"
"$work/gentree" -vhosts "$vhosts" -htaccess "$htaccess" -out "$work/tree" || die "gentree failed"
"$work/gentree" -vhosts 10 -docroot-files "$files" -out "$work/perm" || die "gentree (permission tree) failed"
tree=$work/tree perm=$work/perm

# The baseline must be a real, successful config test.
for t in "$tree" "$perm"; do
	out=$("$apache" -d "$t" -f "$t/httpd.conf" -t 2>&1)
	[ "$out" = "Syntax OK" ] || die "apache2 -t does not accept $t: $out"
done

# measure ID OKCODES CMD...: run CMD once under /usr/bin/time, append
# "seconds kilobytes cpu-seconds" to res/ID, or "fail STATUS" when the exit status is not
# in OKCODES (space-separated). stdout is discarded, stderr kept in err/ID.
measure() {
	local id=$1 ok=$2 tf=$work/time.out rc
	shift 2
	/usr/bin/time -f '%e %M %U %S' -o "$tf" "$@" >/dev/null 2>"$work/err/$id"
	rc=$?
	if [[ " $ok " == *" $rc "* ]]; then
		tail -n 1 "$tf" | awk '{ printf "%s %s %.2f\n", $1, $2, $3 + $4 }' >>"$work/res/$id"
	else
		echo "fail $rc" >>"$work/res/$id"
	fi
}

# Commands, by id. Baselines first in each pair.
run_cmd() {
	case $1 in
	apache_t) measure apache_t 0 "$apache" -d "$tree" -f "$tree/httpd.conf" -t ;;
	dump) measure dump "0 1" "$mm" dump --format=json "$tree/httpd.conf" ;;
	# lint takes the tree's directory: given a FILE it lints that file alone.
	lint) measure lint "0 1" "$mm" lint --no-permissions --format=json "$tree" ;;
	find) measure find 0 find "$perm/www" -perm -o+w ;;
	lint_perm) measure lint_perm "0 1" "$mm" lint --format=json "$perm" ;;
	esac
}

ids=(apache_t dump lint find lint_perm)
log "== measuring: $runs interleaved runs of ${ids[*]}"
for ((i = 1; i <= runs; i++)); do
	# Alternate the order so neither side always runs on a warm cache first.
	if ((i % 2)); then order=("${ids[@]}"); else order=(lint_perm find lint dump apache_t); fi
	for id in "${order[@]}"; do run_cmd "$id"; done
	log "   run $i/$runs done"
done

# median ID COLUMN: median of column 1 (seconds), 2 (KB) or 3 (CPU seconds) of the successful
# runs; empty when any run failed.
median() {
	grep -q '^fail' "$work/res/$1" && return
	awk -v c="$2" '{print $c}' "$work/res/$1" | sort -g | awk '
		{ v[NR] = $1 }
		END { if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# cell ID: "median s / median MB" or "failed (exit N: first stderr line)".
failure() {
	local rc msg
	rc=$(grep -m1 '^fail' "$work/res/$1" | cut -d' ' -f2)
	msg=$(grep -v '^Command exited' "$work/err/$1" | head -n 1 | cut -c1-80 | tr '|' '/')
	printf 'failed (exit %s%s)' "$rc" "${msg:+: $msg}"
}

row() { # row PAIR BASELINE_ID BASELINE_LABEL TOOL_ID TOOL_LABEL
	local bt bm bc tt tm tc
	bt=$(median "$2" 1) bm=$(median "$2" 2) bc=$(median "$2" 3)
	tt=$(median "$4" 1) tm=$(median "$4" 2) tc=$(median "$4" 3)
	local bcell tcell ratio_t="–" ratio_c="–" ratio_m="–"
	if [ -n "$bt" ]; then bcell=$(awk -v t="$bt" -v c="$bc" -v m="$bm" 'BEGIN{printf "%.2f s, CPU %.2f s, %.0f MB", t, c, m/1024}'); else bcell=$(failure "$2"); fi
	if [ -n "$tt" ]; then tcell=$(awk -v t="$tt" -v c="$tc" -v m="$tm" 'BEGIN{printf "%.2f s, CPU %.2f s, %.0f MB", t, c, m/1024}'); else tcell=$(failure "$4"); fi
	if [ -n "$bt" ] && [ -n "$tt" ]; then
		ratio_t=$(awk -v a="$tt" -v b="$bt" 'BEGIN{ if (b > 0) printf "%.2f×", a/b; else print "–" }')
		ratio_c=$(awk -v a="$tc" -v b="$bc" 'BEGIN{ if (b > 0) printf "%.2f×", a/b; else print "–" }')
		ratio_m=$(awk -v a="$tm" -v b="$bm" 'BEGIN{ if (b > 0) printf "%.2f×", a/b; else print "–" }')
	fi
	printf '| %s | `%s` | %s | `%s` | %s | %s | %s | %s |\n' "$1" "$3" "$bcell" "$5" "$tcell" "$ratio_t" "$ratio_c" "$ratio_m"
}

lines=$(cat "$tree"/sites/*.conf | wc -l)
bytes=$(cat "$tree"/sites/*.conf | wc -c)
echo "### modphp-migrate vs baselines ($(date -u +%Y-%m-%dT%H:%MZ))"
echo
echo "Config tree: $vhosts vhosts, $lines lines, $((bytes / 1024)) KiB in sites/, $htaccess .htaccess files."
echo "Permission tree: 10 vhosts, $files docroot files. Medians of $runs interleaved runs;"
echo "$(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg), $("$apache" -v | head -n 1 | sed 's/Server version: //'), $(go version | cut -d' ' -f3)."
echo
echo "| pair | baseline | median (wall, CPU, peak RSS) | modphp-migrate | median (wall, CPU, peak RSS) | time ratio | CPU ratio | RSS ratio |"
echo "|---|---|---|---|---|---|---|---|"
row parse apache_t "apache2 -t" dump "dump --format=json"
row lint apache_t "apache2 -t" lint "lint --no-permissions --format=json TREE"
row permissions find "find ROOT -perm -o+w" lint_perm "lint --format=json TREE"
