# bench/shim/lib.sh — shared by compare.sh, ab.sh and rotate.sh (sourced, not run).

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

# add_shim NAME KEY SPEC records the shim binary of SPEC (BINARY, or
# BINARY:N to run it with GOMAXPROCS=N) under KEY in the arrays BIN and
# PROCS (declared by the caller); NAME names the script in errors.
add_shim() {
	BIN[$2]=$(realpath "${3%%:*}") PROCS[$2]=""
	if [[ $3 == *:* ]]; then PROCS[$2]=${3##*:}; fi
	[ -x "${BIN[$2]}" ] || { echo "$1: ${BIN[$2]} is not an executable" >&2; exit 2; }
}

# chain_up NAME starts, from the configuration compare.sh writes and keeps
# (no rounds, no mod_php; SCRIPT and REUSE as the caller's options say),
# the php-fpm pools and the Apache in front of the shim's socket, and
# removes it all when the caller exits. Sets T (the directory), URL (the
# script through that Apache), SID (the Apache's session), PIDS and INI.
chain_up() {
	T=$(bash "$HERE/compare.sh" -r 0 -d 1 -m -k -s "$SCRIPT" $REUSE 2>&1 >/dev/null | sed -n 's/^kept //p')
	[ -d "$T" ] || { echo "$1: compare.sh left no setup" >&2; exit 1; }
	PIDS=()
	trap chain_down EXIT
	need_loader "$T"
	INI=$(ls /etc/php/*/fpm/php.ini 2>/dev/null | tail -1 || true)
	start_fpm "$T"
	for _ in $(seq 100); do [ -S "$T/fpm-shim.sock" ] && break; sleep 0.1; done
	setsid "$(command -v apache2 || command -v httpd)" -d "$T/shim" -f "$T/shim/httpd.conf" -DFOREGROUND >"$T/shim/stdout.log" 2>&1 &
	PIDS+=($!)
	SID=$!
	URL=http://127.0.0.1:$(sed -n 's/^Listen 127.0.0.1://p' "$T/shim/httpd.conf")/a/b/c/$SCRIPT.php
}

# chain_down stops what chain_up and start_shim started and removes T.
chain_down() {
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
	[ -n "${SHIM:-}" ] && kill "$SHIM" 2>/dev/null || true
	sleep 0.5
	rm -rf "$T"
}

# start_shim NAME KEY replaces the running shim (SHIM) with KEY's, on the
# socket chain_up's Apache sends to, and waits until a request through
# the chain answers 200.
start_shim() {
	[ -n "${SHIM:-}" ] && { kill "$SHIM"; wait "$SHIM" 2>/dev/null || true; }
	${PROCS[$2]:+env GOMAXPROCS=${PROCS[$2]}} "${BIN[$2]}" shim --listen "unix:$T/shim.sock" --listen-mode 0666 \
		--pool "unix:$T/fpm-shim.sock" --fpm-config "$T/php-fpm.conf" ${INI:+--php-ini "$INI"} --log-level warn \
		>>"$T/shim.log" 2>&1 &
	SHIM=$!
	for _ in $(seq 100); do [ -S "$T/shim.sock" ] && [ "$(curl -s -o /dev/null -w '%{http_code}' "$URL")" = 200 ] && return 0; sleep 0.1; done
	echo "$1: shim $2 (${BIN[$2]}) never answered 200" >&2
	tail -n 5 "$T/shim.log" >&2
	exit 1
}

# bench_opts LAST "$@": the options ab.sh and rotate.sh share (-r -d -s -E,
# described in their headers) into ROUNDS, DUR, SCRIPT and REUSE, the
# operands into ARGS. A bad option prints the calling script's header
# (lines 2..LAST) and exits 2.
bench_opts() {
	local last=$1 o OPTIND=1
	shift
	ROUNDS=7 DUR=4 SCRIPT=hello REUSE=""
	while getopts "r:d:s:E" o; do
		case $o in
		r) ROUNDS=$OPTARG ;; d) DUR=$OPTARG ;; s) SCRIPT=$OPTARG ;; E) REUSE=-E ;;
		*) sed -n "2,${last}p" "$0"; exit 2 ;;
		esac
	done
	shift $((OPTIND - 1))
	ARGS=("$@")
}

# measure_shim SCRIPT KEY: starts shim KEY on the chain, warms it for a
# second, then loads it for DUR seconds; sets M_RPS (req/s) and M_CA,
# M_CF, M_CS (µs of CPU per request of Apache, php-fpm's pool, the shim).
measure_shim() {
	local a0 f0 s0 a1 f1 s1 n
	start_shim "$1" "$2"
	load "$URL" 16 1 >/dev/null # warm the cache and the connections
	read -r a0 f0 s0 < <(cpu_ticks "$SID" shim "$SHIM")
	read -r n M_RPS < <(load "$URL" 16 "$DUR")
	read -r a1 f1 s1 < <(cpu_ticks "$SID" shim "$SHIM")
	read -r M_CA M_CF M_CS < <(per_request "$n" $((a1 - a0)) $((f1 - f0)) $((s1 - s0)))
}
