# bench/shim/lib.sh — shared by compare.sh and ab.sh (sourced, not run).

# start_fpm DIR starts php-fpm on DIR/php-fpm.conf in the foreground of a
# background job; sets FPMPID and appends it to PIDS.
start_fpm() {
	local fpm ini args
	fpm=$(command -v php-fpm8.2 || ls /usr/sbin/php-fpm* 2>/dev/null | tail -1 || true)
	[ -n "$fpm" ] || { echo "php-fpm not found" >&2; return 1; }
	ini=$(ls /etc/php/*/fpm/php.ini 2>/dev/null | tail -1 || true)
	args=(--nodaemonize -y "$1/php-fpm.conf")
	[ -n "$ini" ] && args+=(-c "$ini")
	[ "$(id -u)" = 0 ] && args+=(-R)
	"$fpm" "${args[@]}" >"$1/fpm.out" 2>&1 &
	FPMPID=$!
	PIDS+=("$FPMPID")
}

# cpu_ticks SID POOL SHIMPID prints the CPU clock ticks (utime+stime) used
# so far by the processes of session SID (an Apache started with setsid),
# by the workers of php-fpm pool POOL (their title names it; "" for none)
# and by process SHIMPID ("" for none): "apache php-fpm shim".
cpu_ticks() {
	local a f=0 s=0 p
	# A process that ends during the cat (the machine runs others) is no
	# failure; nor, under pipefail, is grep -q closing tr's pipe early.
	a=$({ cat /proc/[0-9]*/stat 2>/dev/null || true; } | awk -v sid="$1" '{sub(/^.*\) /, ""); if ($4 == sid) t += $12 + $13} END {print t + 0}')
	if [ -n "$2" ]; then
		for p in $(pgrep -P "$FPMPID"); do
			[[ $(tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null) =~ pool\ $2( |$) ]] || continue
			f=$((f + $(sed 's/^.*) //' "/proc/$p/stat" | awk '{print $12 + $13}')))
		done
	fi
	[ -n "$3" ] && s=$(sed 's/^.*) //' "/proc/$3/stat" | awk '{print $12 + $13}')
	echo "$a $f $s"
}

# per_request N DA DF DS prints CPU clock ticks DA, DF and DS (cpu_ticks
# differences) as µs per request of N requests: "apache php-fpm shim".
per_request() {
	awk -v n="$1" -v hz="$(getconf CLK_TCK)" -v a="$2" -v f="$3" -v s="$4" \
		'BEGIN {u = 1e6 / hz / n; printf "%.1f %.1f %.1f\n", a * u, f * u, s * u}'
}

# median V... prints the median of the numbers V.
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }

# load URL CONNS SECONDS runs SECONDS of keep-alive load with CONNS
# connections against URL and prints "requests req/s": with wrk (two
# threads), or where wrk is not installed with bench/shim/load (built into
# $LOADER by the caller). Compare runs made with the same one.
load() {
	local out
	if command -v wrk >/dev/null 2>&1; then
		out=$(wrk -t2 -c"$2" -d"$3s" "$1")
		awk '/requests in/ {n = $1} /Requests\/sec/ {r = $2} END {print n, r}' <<<"$out"
	else
		"$LOADER" -c "$2" -d "$3s" "$1"
	fi
}

# need_loader sets LOADER, building bench/shim/load into DIR when wrk is
# not installed.
need_loader() {
	command -v wrk >/dev/null 2>&1 && return 0
	LOADER=$1/load
	(cd "$(dirname "${BASH_SOURCE[0]}")/load" && go build -o "$LOADER" .)
}
