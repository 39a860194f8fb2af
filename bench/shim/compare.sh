#!/usr/bin/env bash
# bench/shim/compare.sh — per-request overhead of modphp-migrate shim.
#
# Measures, in one run with wrk and interleaved rounds, three setups on the same
# document root: Apache (event) → php-fpm direct, Apache (event) → shim →
# php-fpm (Unix sockets, or TCP on 127.0.0.1 with -T), and Apache prefork + mod_php. The script sits
# under a 3-level .htaccess chain (php_value lines guarded by <IfModule
# mod_php.c>, so the event Apaches skip them, the shim applies them and mod_php
# applies them itself). Prints medians of req/s, p50 and p99 as a markdown table
# and the shim's throughput ratio and added p50/p99 (docs/benchmarks.md, "shim").
#
#   bench/shim/compare.sh [-r ROUNDS] [-d SECONDS] [-c CONNS] [-t THREADS] [-w FPM_WORKERS] [-s SCRIPT] [-e|-E] [-m] [-k] [-P N] [-T] [-F]
#     -r rounds (5)  -d seconds per wrk run (5)  -c connections (16)  -t wrk threads (2)
#     -w php-fpm pm.max_children (8)  -s hello|work: the script (hello.php, or work.php:
#     300,000 crc32 calls and a 2,000-element sort, about 15 ms of CPU with PHP 8.2 here)
#     -e Apache enablereuse=on towards both backends  -E enablereuse=on towards the shim only (the
#     recommended deployment: php-fpm must not get it, a kept connection pins a worker, docs/behaviour.md#b-reuse-pins)
#     -m skip the mod_php setup  -k keep the temp dir  -P N run the shim with GOMAXPROCS=N
#     -T TCP on 127.0.0.1 for every FastCGI hop instead of Unix sockets (the listen of php-fpm's
#     own default pool config and of the official php:fpm container image)
#     -F run bench/relayfloor in the shim's place: a relay that only forwards records, the
#     floor under any process between Apache and php-fpm (its rows still say "shim")
#     (-r 0 sets up, warms up and stops: with -k it leaves the configuration that
#     bench/shim/ab.sh runs two shims on)
#
# Besides throughput and latency it prints the CPU time each process group
# spent per request during the runs (utime+stime from /proc, in µs): Apache
# (each in its own session), the php-fpm pool that served, and the shim. On a
# machine where wrk, Apache and php-fpm saturate the cores this is what the
# throughput ratio follows.
#
# Needs apache2 (mod_proxy_fcgi), php-fpm8.2 and wrk; runs as root or as a user
# that may start them on 127.0.0.1.
set -euo pipefail
trap 'echo "compare.sh: line $LINENO: \"$BASH_COMMAND\" failed" >&2' ERR

ROUNDS=5 DUR=5 CONNS=16 THREADS=2 WORKERS=8 REUSE=0 KEEP=0 SCRIPT=hello MODPHP=1 PROCS="" TCP=0 FLOOR=0
while getopts "r:d:c:t:w:s:eEmkP:TF" o; do
	case $o in
	r) ROUNDS=$OPTARG ;; d) DUR=$OPTARG ;; c) CONNS=$OPTARG ;; t) THREADS=$OPTARG ;;
	w) WORKERS=$OPTARG ;; s) SCRIPT=$OPTARG ;; e) REUSE=1 ;; E) REUSE=shim ;; m) MODPHP=0 ;; k) KEEP=1 ;;
	P) PROCS=$OPTARG ;; T) TCP=1 ;; F) FLOOR=1 ;;
	*) sed -n '2,33p' "$0"; exit 2 ;;
	esac
done

need() { command -v "$1" >/dev/null 2>&1 || { echo "compare.sh: $1 not found" >&2; exit 2; }; }
APACHE=$(command -v apache2 || command -v httpd || true)
FPM=$(command -v php-fpm8.2 || ls /usr/sbin/php-fpm* 2>/dev/null | tail -1 || true)
[ -n "$APACHE" ] || { echo "compare.sh: apache2 not found" >&2; exit 2; }
[ -n "$FPM" ] || { echo "compare.sh: php-fpm not found" >&2; exit 2; }
[ "$ROUNDS" = 0 ] || need wrk # not for ab.sh's setup (-r 0)
INI=$(ls /etc/php/*/fpm/php.ini 2>/dev/null | tail -1 || true)
MODS=/usr/lib/apache2/modules
REPO=$(cd "$(dirname "$0")/../.." && pwd)
. "$REPO/bench/shim/lib.sh"

T=$(mktemp -d /tmp/shim-bench.XXXXXX)
chmod 755 "$T"
PIDS=()
cleanup() {
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
	sleep 0.5
	for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null || true; done
	[ "$KEEP" = 1 ] && echo "kept $T" >&2 || rm -rf "$T"
}
trap cleanup EXIT

FLOORARGS=()
if [ "$FLOOR" = 1 ]; then
	(cd "$REPO" && go build -o "$T/modphp-migrate" ./bench/relayfloor)
	FLOORARGS=(--conns "$WORKERS")
else
	(cd "$REPO" && go build -o "$T/modphp-migrate" ./cmd/modphp-migrate) # from any directory: the module is REPO
fi

# Document root: /a/b/c/hello.php, an .htaccess in a, a/b and a/b/c.
W=$T/www
mkdir -p "$W/a/b/c"
printf '<?php echo "hello\\n";\n' >"$W/a/b/c/hello.php"
printf '<?php\n$s = 0;\nfor ($i = 0; $i < 300000; $i++) { $s += crc32("x$i"); }\n$a = range(1, 2000); shuffle($a); sort($a);\necho "work ", $s, " ", count($a), "\\n";\n' >"$W/a/b/c/work.php"
case $SCRIPT in hello | work) ;; *) echo "compare.sh: -s hello or work" >&2; exit 2 ;; esac
printf '<IfModule mod_php.c>\nphp_value memory_limit 64M\nphp_flag display_errors off\n</IfModule>\n' >"$W/a/.htaccess"
printf '<IfModule mod_php.c>\nphp_value include_path ".:/usr/share/php:/srv/lib"\nphp_value max_execution_time 20\n</IfModule>\n' >"$W/a/b/.htaccess"
printf '<IfModule mod_php.c>\nphp_value memory_limit 96M\n<Files hello.php>\nphp_value user_agent "bench agent"\n</Files>\n</IfModule>\n' >"$W/a/b/c/.htaccess"

USERLINE="" FPMUSER=""
if [ "$(id -u)" = 0 ]; then USERLINE=$'User www-data\nGroup www-data'; FPMUSER=$'user = www-data\ngroup = www-data'; fi

# Two identical pools: the shim keeps up to pm.max_children connections open,
# each pinning a worker (docs/behaviour.md#b-reuse-pins), so Apache-direct must not share
# its pool. Runs are interleaved, so only one pool works at a time.
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
# FastCGI addresses: php-fpm's two pools and the shim, as php-fpm's listen,
# the shim's flags and Apache's proxy: URL spell them.
declare -A FLISTEN FADDR AURL
for k in direct shim; do
	if [ "$TCP" = 1 ]; then
		FLISTEN[$k]=127.0.0.1:$(port)
	else
		FLISTEN[$k]=$T/fpm-$k.sock
	fi
done
if [ "$TCP" = 1 ]; then
	FADDR[fpm]=${FLISTEN[shim]} FADDR[shim]=127.0.0.1:$(port)
	AURL[direct]=fcgi://${FLISTEN[direct]} AURL[shim]=fcgi://${FADDR[shim]}
	LISTENMODE=()
else
	FADDR[fpm]=unix:${FLISTEN[shim]} FADDR[shim]=unix:$T/shim.sock
	AURL[direct]="unix:${FLISTEN[direct]}|fcgi://localhost" AURL[shim]="unix:$T/shim.sock|fcgi://localhost"
	LISTENMODE=(--listen-mode 0666)
fi
{
	printf '[global]\nerror_log = %s\ndaemonize = no\n' "$T/fpm-error.log"
	for pool in direct shim; do
		printf '[%s]\n%s\nlisten = %s\nlisten.mode = 0666\npm = static\npm.max_children = %s\n' \
			"$pool" "$FPMUSER" "${FLISTEN[$pool]}" "$WORKERS"
	done
} >"$T/php-fpm.conf"
start_fpm "$T"

STATUS=$(port)
${PROCS:+env GOMAXPROCS=$PROCS} "$T/modphp-migrate" shim --listen "${FADDR[shim]}" "${LISTENMODE[@]}" --pool "${FADDR[fpm]}" \
	--fpm-config "$T/php-fpm.conf" ${INI:+--php-ini "$INI"} --status-listen "127.0.0.1:$STATUS" \
	--log-level warn "${FLOORARGS[@]}" >"$T/shim.log" 2>&1 &
PIDS+=($!)
SHIMPID=$!

declare -A SID
# apache NAME URL starts one event-MPM Apache in front of the proxy: URL, or
# with URL "modphp" a prefork Apache with mod_php; its port is left in APORT (no
# command substitution: the pid must reach PIDS in this shell).
apache() {
	local d=$T/$1 p
	p=$(port)
	mkdir -p "$d/run"
	local mpm handler reuse=""
	if [ "$2" = modphp ]; then
		# Debian's mods-available/php8.2.conf, the part that matters here.
		mpm=$'LoadModule mpm_prefork_module '"$MODS"$'/mod_mpm_prefork.so\nLoadModule php_module '"$MODS"$'/libphp8.2.so\nStartServers 20\nMinSpareServers 20\nMaxSpareServers 40\nServerLimit 40\nMaxRequestWorkers 40'
		handler=$'<FilesMatch ".+\\.ph(?:ar|p|tml)$">\n    SetHandler application/x-httpd-php\n</FilesMatch>'
	else
		mpm=$'LoadModule mpm_event_module '"$MODS"$'/mod_mpm_event.so\nLoadModule proxy_module '"$MODS"$'/mod_proxy.so\nLoadModule proxy_fcgi_module '"$MODS"$'/mod_proxy_fcgi.so\nStartServers 2\nServerLimit 2\nThreadsPerChild 25\nMaxRequestWorkers 50'
		handler=$'<FilesMatch "\\.php$">\n    SetHandler "proxy:'"$2"$'"\n</FilesMatch>'
		{ [ "$REUSE" = 1 ] || { [ "$REUSE" = shim ] && [ "$1" = shim ]; }; } && reuse=$'<Proxy "'"$2"$'">\n    ProxySet enablereuse=on\n</Proxy>'
	fi
	cat >"$d/httpd.conf" <<CONF
ServerRoot $d
ServerName 127.0.0.1
Listen 127.0.0.1:$p
PidFile $d/httpd.pid
DefaultRuntimeDir $d/run
Mutex file:$d/run default
ErrorLog $d/error.log
LogLevel warn
$USERLINE
$mpm
LoadModule authz_core_module $MODS/mod_authz_core.so
LoadModule mime_module $MODS/mod_mime.so
LoadModule dir_module $MODS/mod_dir.so
KeepAlive On
TypesConfig /etc/mime.types
DocumentRoot $W
<Directory />
    AllowOverride None
    Require all denied
</Directory>
<Directory $W>
    AllowOverride All
    Require all granted
</Directory>
$reuse
$handler
CONF
	# Own session: prefork's shutdown signals its whole process group
	# (ap_unixd_killpg), which would otherwise include this script and its caller.
	setsid "$APACHE" -d "$d" -f "$d/httpd.conf" -DFOREGROUND >"$d/stdout.log" 2>&1 &
	PIDS+=($!)
	SID[$1]=$! # setsid execs in place: the session is Apache's pid
	APORT=$p
}
# php-fpm up: its pool answers (Unix socket or port).
for _ in $(seq 100); do
	if [ "$TCP" = 1 ]; then (exec 3<>"/dev/tcp/${FLISTEN[shim]%:*}/${FLISTEN[shim]#*:}") 2>/dev/null && break; else [ -S "${FLISTEN[shim]}" ] && break; fi
	sleep 0.1
done
apache direct "${AURL[direct]}"
PDIRECT=$APORT
apache shim "${AURL[shim]}"
PSHIM=$APORT
if [ "$MODPHP" = 1 ]; then
	[ -f "$MODS/libphp8.2.so" ] || { echo "compare.sh: $MODS/libphp8.2.so not found (use -m)" >&2; exit 2; }
	apache modphp modphp
	PMODPHP=$APORT
fi

waiturl() {
	for _ in $(seq 100); do
		if [ "$(curl -s -o /dev/null -w '%{http_code}' "$1" 2>/dev/null)" = 200 ]; then return 0; fi
		sleep 0.1
	done
	echo "compare.sh: $1 never answered 200" >&2
	tail -n 5 "$T"/*/error.log "$T/shim.log" "$T/fpm-error.log" >&2 || true
	exit 1
}
UD=http://127.0.0.1:$PDIRECT/a/b/c/$SCRIPT.php
US=http://127.0.0.1:$PSHIM/a/b/c/$SCRIPT.php
UM=${PMODPHP:+http://127.0.0.1:$PMODPHP/a/b/c/$SCRIPT.php}
waiturl "$UD"
waiturl "$US"
[ -n "$UM" ] && waiturl "$UM"

# ms converts a wrk latency (850.00us, 1.20ms, 1.01s) to milliseconds.
ms() { awk -v v="$1" 'BEGIN {u=v; sub(/[0-9.]+/,"",u); sub(/[a-z]+$/,"",v); if (u=="us") v/=1000; if (u=="s") v*=1000; print v}'; }
# ticks W prints the CPU clock ticks used so far by setup W's Apache, php-fpm
# pool and shim (lib.sh's cpu_ticks).
ticks() {
	case $1 in
	d) cpu_ticks "${SID[direct]}" direct "" ;;
	s) cpu_ticks "${SID[shim]}" shim "$SHIMPID" ;;
	m) cpu_ticks "${SID[modphp]}" "" "" ;;
	esac
}
# run_wrk W: wrk's Requests/sec and the 50% and 99% lines of --latency (ms),
# then the µs of CPU per request of Apache, php-fpm and the shim.
run_wrk() {
	local out rps p50 p99 n a0 f0 s0 a1 f1 s1
	read -r a0 f0 s0 < <(ticks "$1")
	out=$(wrk -t"$THREADS" -c"$CONNS" -d"${DUR}s" --latency "${URL[$1]}")
	read -r a1 f1 s1 < <(ticks "$1")
	rps=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
	n=$(awk '/requests in/ {print $1}' <<<"$out")
	p50=$(ms "$(awk '$1=="50%" {print $2}' <<<"$out")")
	p99=$(ms "$(awk '$1=="99%" {print $2}' <<<"$out")")
	if grep -q "Non-2xx" <<<"$out"; then echo "compare.sh: non-2xx answers from ${URL[$1]}" >&2; grep Non-2xx <<<"$out" >&2; fi
	echo "$rps $p50 $p99 $(per_request "$n" $((a1 - a0)) $((f1 - f0)) $((s1 - s0)))"
}
SETUPS=(d s)
[ -n "$UM" ] && SETUPS+=(m)
declare -A URL=([d]=$UD [s]=$US [m]=$UM)
NET=unix
[ "$TCP" = 1 ] && NET=tcp
declare -A NAME=([d]="Apache event → php-fpm ($NET)" [s]="Apache event → shim → php-fpm ($NET)" [m]="Apache prefork + mod_php")
[ "$ROUNDS" = 0 ] && exit 0 # set up only (with -k, for bench/shim/ab.sh)
# Warm-up: opcache, the shim's cache, kept connections.
for w in "${SETUPS[@]}"; do wrk -t"$THREADS" -c"$CONNS" -d1s "${URL[$w]}" >/dev/null; done

declare -A R P50 P99 CA CF CS
for i in $(seq "$ROUNDS"); do
	# Rotate the order each round so that no setup always runs first.
	n=${#SETUPS[@]} line="round $i:"
	for k in $(seq 0 $((n - 1))); do
		w=${SETUPS[$(((i + k) % n))]}
		read -r r a b ca cf cs < <(run_wrk "$w")
		R[$w]+="$r " P50[$w]+="$a " P99[$w]+="$b " CA[$w]+="$ca " CF[$w]+="$cf " CS[$w]+="$cs "
		line+=" $w $r req/s p50 $a ms p99 $b ms cpu $ca+$cf+$cs us |"
	done
	echo "$line" >&2
done
echo
echo "| setup | req/s (median of $ROUNDS) | p50 ms (median) | p99 ms (median) | CPU µs/request: Apache + php-fpm + shim (medians) |"
echo "|---|---|---|---|---|"
declare -A MR MP50 MP99
for w in "${SETUPS[@]}"; do
	MR[$w]=$(median ${R[$w]}) MP50[$w]=$(median ${P50[$w]}) MP99[$w]=$(median ${P99[$w]})
	ca=$(median ${CA[$w]}) cf=$(median ${CF[$w]}) cs=$(median ${CS[$w]})
	echo "| ${NAME[$w]} | ${MR[$w]} | ${MP50[$w]} | ${MP99[$w]} | $ca + $cf + $cs = $(awk -v a="$ca" -v b="$cf" -v c="$cs" 'BEGIN {print a + b + c}') |"
done
awk -v dr="${MR[d]}" -v sr="${MR[s]}" -v d50="${MP50[d]}" -v s50="${MP50[s]}" -v dp="${MP99[d]}" -v sp="${MP99[s]}" \
	'BEGIN {printf "\nthroughput shim/direct: %.3f (%.1f%%), added p50: %+.2f ms, added p99: %+.2f ms\n", sr/dr, (sr/dr-1)*100, s50-d50, sp-dp}'
[ -n "$UM" ] && awk -v mr="${MR[m]}" -v sr="${MR[s]}" -v dr="${MR[d]}" \
	'BEGIN {printf "throughput shim/mod_php: %.3f, direct/mod_php: %.3f\n", sr/mr, dr/mr}'
# The shim applied the chain: PHP_VALUE keys it manages.
echo >&2
curl -s "http://127.0.0.1:$STATUS/?format=json" >&2 || true
