#!/usr/bin/env bash
# The whole modphp-migrate test suite, as the README and CI run it.
# Installs the real peers the integration tests drive (Apache httpd with
# mod_php, php-fpm) with apt-get when they are missing, then runs vet,
# gofmt and every Go test with the real servers required.
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
command -v apache2 >/dev/null 2>&1 || [ -x /usr/sbin/apache2 ] || need+=(apache2)
[ -e /usr/lib/apache2/modules/libphp8.2.so ] || ls /usr/lib/apache2/modules/libphp*.so >/dev/null 2>&1 || need+=(libapache2-mod-php)
ls /usr/sbin/php-fpm* >/dev/null 2>&1 || need+=(php-fpm)
command -v php >/dev/null 2>&1 || need+=(php-cli)
# PHP applications from their Debian packages, served by internal/realapps
# (TestRealApps) with the Apache configuration they ship.
apps=()
if command -v dpkg-query >/dev/null 2>&1; then
  for p in dokuwiki adminer phpmyadmin; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q ' installed$' || apps+=("$p")
  done
fi
if [ ${#need[@]} -gt 0 ] || [ ${#apps[@]} -gt 0 ]; then
  echo "installing: ${need[*]} ${apps[*]}"
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO=sudo
  $SUDO apt-get update -qq
  if [ ${#need[@]} -gt 0 ]; then
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need[@]}" >/dev/null
  fi
  if [ ${#apps[@]} -gt 0 ]; then
    # The tests include each application's Apache configuration in their
    # own ServerRoot: leave the system's Apache alone, and configure no
    # database (phpMyAdmin's login page needs none).
    $SUDO debconf-set-selections <<'EOF'
dokuwiki dokuwiki/system/configure-webserver multiselect
dokuwiki dokuwiki/system/restart-webserver boolean false
phpmyadmin phpmyadmin/reconfigure-webserver multiselect
phpmyadmin phpmyadmin/dbconfig-install boolean false
EOF
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${apps[@]}" >/dev/null
  fi
fi

echo "== go vet"
go vet ./...
echo "== gofmt"
unformatted=$(gofmt -l . | grep -v '^vendor/' || true)
if [ -n "$unformatted" ]; then echo "gofmt would change:"; echo "$unformatted"; exit 1; fi
echo "== cross builds"
# lint runs from pre-commit hooks on developers' machines, not only on Linux servers.
for os in darwin windows; do GOOS=$os go build -o /dev/null ./cmd/modphp-migrate; done
# The shim's raw stat (internal/rawstat) is per architecture on Linux.
for arch in arm64 386; do GOOS=linux GOARCH=$arch go build -o /dev/null ./cmd/modphp-migrate; done
echo "== debian package"
# What operators install: build the .deb with nfpm (packaging/build-deb.sh),
# install it with dpkg -i, run the installed binary, check the shim's unit
# (syntax, and systemd-analyze security at most 3.0), then remove it again.
deb_dir=$(mktemp -d)
bash packaging/build-deb.sh "$deb_dir" >/dev/null
deb=$(ls "$deb_dir"/modphp-migrate_*.deb)
SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO=sudo
if [ -z "$SUDO" ] || command -v sudo >/dev/null 2>&1; then
  $SUDO dpkg -i "$deb" >/dev/null
  got=$(/usr/bin/modphp-migrate --version)
  want="modphp-migrate $(dpkg-deb -f "$deb" Version)"
  if [ "$got" != "$want" ]; then echo "installed binary says '$got', want '$want'"; exit 1; fi
  echo "$got"
  unit=/lib/systemd/system/modphp-migrate-shim.service
  if command -v systemd-analyze >/dev/null 2>&1; then
    # verify only warns (exit 0) about unknown keys and bad values: any output fails.
    verify=$(systemd-analyze verify "$unit" 2>&1 || echo "systemd-analyze verify failed")
    if [ -n "$verify" ]; then echo "$verify"; exit 1; fi
    systemd-analyze security --offline=yes --threshold=30 "$unit" | tail -n1
  else
    echo "systemd-analyze not available: unit not verified"
  fi
  $SUDO dpkg -r modphp-migrate >/dev/null
else
  echo "not root and no sudo: $deb built, not installed"
fi
rm -rf "$deb_dir"
echo "== go test"
# MODPHP_MIGRATE_REAL=1: tests that drive real Apache/php-fpm fail instead of skipping when absent.
MODPHP_MIGRATE_REAL=1 go test -count=1 -timeout 12m ./... "$@"
echo "== go test -race (the concurrent packages)"
MODPHP_MIGRATE_REAL=1 go test -race -count=1 -timeout 12m ./fcgi ./shim ./internal/migrate ./rules "$@"
