#!/usr/bin/env bash
# Builds the Debian package dist/modphp-migrate_VERSION_ARCH.deb with nfpm:
# the binary (/usr/bin/modphp-migrate, version set at link time), a man page
# made from the commands' --help, the docs, and the shim's systemd unit.
#
#   bash packaging/build-deb.sh [OUTDIR]
#
# VERSION defaults to the tag at HEAD (v0.1.0 → 0.1.0), else the latest
# release of CHANGELOG.md plus +git and the commit; GOARCH to go env GOARCH.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-dist}
nfpm_version=v2.45.2

if [ -z "${VERSION:-}" ]; then
  if tag=$(git describe --tags --exact-match --match 'v[0-9]*' 2>/dev/null); then
    VERSION=${tag#v}
  else
    VERSION=$(sed -n 's/^## \[\([0-9][^]]*\)\] - .*/\1/p' CHANGELOG.md | head -n1)
    rev=$(git rev-parse --short=12 HEAD 2>/dev/null || true)
    VERSION=${VERSION:-0.0.0}${rev:++git$rev}
  fi
fi
arch=${GOARCH:-$(go env GOARCH)}
case $arch in 386) deb_arch=i386 ;; *) deb_arch=$arch ;; esac

build=$(mktemp -d)
trap 'rm -rf "$build"' EXIT
CGO_ENABLED=0 GOOS=linux GOARCH=$arch go build -trimpath -ldflags "-s -w -X main.version=$VERSION" \
  -o "$build/modphp-migrate" ./cmd/modphp-migrate

# The man page is the commands' --help, verbatim (roff: no-fill blocks,
# backslashes escaped, lines starting with . or ' protected).
help() { "$build/modphp-migrate" "$@" 2>&1 | sed -e 's/\\/\\e/g' -e "s/^\([.']\)/\\\\\&\1/"; }
if [ "$arch" = "$(go env GOHOSTARCH)" ]; then bin_runs=1; else bin_runs=; fi
{
  echo ".TH MODPHP-MIGRATE 1 \"\" \"modphp-migrate $VERSION\" \"User Commands\""
  echo ".SH NAME"
  echo "modphp-migrate \\- move Apache httpd from mod_php to php-fpm safely"
  echo ".SH SYNOPSIS"
  echo ".B modphp-migrate"
  echo ".I COMMAND"
  echo "[flags] [args]"
  echo ".SH DESCRIPTION"
  echo "Checks Apache httpd trees for what breaks when PHP moves from mod_php to php-fpm (lint),"
  echo "and runs a FastCGI shim that keeps .htaccess php_value/php_flag working under php-fpm (shim)."
  echo "The shim's systemd unit is modphp-migrate-shim.service. Documentation: /usr/share/doc/modphp-migrate."
  if [ -n "$bin_runs" ]; then
    echo ".SH COMMANDS"
    echo ".nf"; help --help; echo ".fi"
    for cmd in lint dump rules explain shim version; do
      echo ".SS $cmd"
      echo ".nf"; help "$cmd" --help; echo ".fi"
    done
  fi
  echo ".SH SEE ALSO"
  echo "apache2ctl(8), php-fpm8.2(8), systemd.service(5)"
} > "$build/modphp-migrate.1"
gzip -9n "$build/modphp-migrate.1"

mkdir -p "$out"
sed "s|@BUILD@|$build|g" packaging/nfpm.yaml > "$build/nfpm.yaml"
NFPM_VERSION=$VERSION NFPM_ARCH=$deb_arch \
  go run "github.com/goreleaser/nfpm/v2/cmd/nfpm@$nfpm_version" package \
  --config "$build/nfpm.yaml" --packager deb --target "$out/modphp-migrate_${VERSION}_${deb_arch}.deb"
