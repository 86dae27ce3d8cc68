#!/usr/bin/env bash
# Install the database servers the integration tests run against.
#
#   sudo scripts/install-servers.sh [--only mariadb | --without-chroots] [--help]
#
# What it installs (on Debian 12 "bookworm"):
#   * MariaDB 10.11, natively from the distribution (mariadb-server, mariadb-client);
#   * debootstrap;
#   * two chroot trees under $ACTIX_MYSQL_SERVERS_DIR (default /opt/actix-mysql/servers):
#       mysql-sid       Debian sid with mysql-server-core + mysql-client-core (Oracle MySQL 9.x)
#       mariadb-trixie  Debian trixie with mariadb-server + mariadb-client (MariaDB 11.8)
#
# No service is ever started: the test harness starts throwaway servers itself
# (see docs/servers.md). The script is idempotent: a finished tree carries a
# marker file and is not rebuilt, so a rerun takes about a second. A chroot
# tree that cannot be built (sid changes daily) is reported and skipped; the
# script exits 0 as long as the native MariaDB is usable.
#
# Environment:
#   ACTIX_MYSQL_SERVERS_DIR  where the chroot trees live (default /opt/actix-mysql/servers)
#   DEBIAN_MIRROR            mirror for debootstrap (default: debootstrap's own default)
#   ACTIX_MYSQL_REBUILD=1    rebuild the chroot trees even if their marker exists
set -euo pipefail

ARGS="$*"
export PATH="$PATH:/usr/local/sbin:/usr/sbin:/sbin"
SERVERS_DIR=${ACTIX_MYSQL_SERVERS_DIR:-/opt/actix-mysql/servers}
MARKER=.actix-mysql-ready
WITH_CHROOTS=1

usage() {
    sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'
}

while [ $# -gt 0 ]; do
    case "$1" in
        --only)
            [ "${2:-}" = mariadb ] || { echo "install-servers: --only takes 'mariadb'" >&2; exit 2; }
            WITH_CHROOTS=0
            shift 2
            ;;
        --only=mariadb | --without-chroots)
            WITH_CHROOTS=0
            shift
            ;;
        -h | --help)
            usage
            exit 0
            ;;
        *)
            echo "install-servers: unknown argument '$1' (see --help)" >&2
            exit 2
            ;;
    esac
done

if [ "$(id -u)" -ne 0 ]; then
    echo "install-servers: must run as root (it installs packages and builds chroot trees)." >&2
    echo "  run: sudo $0 $ARGS" >&2
    exit 1
fi

export DEBIAN_FRONTEND=noninteractive
START=$(date +%s)

log() { printf '[install-servers %3ss] %s\n' "$(($(date +%s) - START))" "$*"; }

# A policy-rc.d that forbids starting services, created only if none exists,
# removed on exit only if we created it.
POLICY=/usr/sbin/policy-rc.d
CREATED_POLICY=0
cleanup() {
    if [ "$CREATED_POLICY" = 1 ]; then rm -f "$POLICY"; fi
}
trap cleanup EXIT

forbid_services() {
    if [ ! -e "$POLICY" ]; then
        printf '#!/bin/sh\nexit 101\n' >"$POLICY"
        chmod 755 "$POLICY"
        CREATED_POLICY=1
    fi
}

apt_install() {
    # Retry once after refreshing the package lists: they may be missing or stale.
    if ! apt-get install -y --no-install-recommends "$@"; then
        log "apt-get install failed; refreshing package lists and retrying"
        apt-get update
        apt-get install -y --no-install-recommends "$@"
    fi
}

native_ready() {
    command -v mariadbd >/dev/null && command -v mariadb >/dev/null &&
        command -v mariadb-install-db >/dev/null && [ -e /usr/lib/mysql/plugin/auth_ed25519.so ]
}

# ---------------------------------------------------------------- native MariaDB
need=()
native_ready || need+=(mariadb-server mariadb-client)
if [ "$WITH_CHROOTS" = 1 ] && ! command -v debootstrap >/dev/null; then need+=(debootstrap); fi
# The test harness makes TLS certificates for the servers with openssl.
command -v openssl >/dev/null || need+=(openssl)
if [ ${#need[@]} -gt 0 ]; then
    log "installing ${need[*]}"
    forbid_services
    if [ -z "$(ls -A /var/lib/apt/lists 2>/dev/null | grep -v -e '^lock$' -e '^partial$' || true)" ]; then
        apt-get update
    fi
    apt_install "${need[@]}"
else
    log "native MariaDB already installed"
fi

# ---------------------------------------------------------------- chroot trees

# Remove a (possibly half-built) tree, unmounting anything debootstrap left inside first.
remove_tree() {
    local dir=$1 m
    [ -e "$dir" ] || return 0
    for m in $(awk -v d="$dir" 'index($2, d "/") == 1 { print $2 }' /proc/mounts | sort -r); do
        umount -l "$m" 2>/dev/null || true
    done
    rm -rf --one-file-system "$dir"
}

# build_tree NAME SUITE PACKAGES... : build $SERVERS_DIR/NAME, log to $SERVERS_DIR/NAME.log
build_tree() {
    local name=$1 suite=$2
    shift 2
    local final=$SERVERS_DIR/$name work=$SERVERS_DIR/$name.partial
    remove_tree "$work"
    # shellcheck disable=SC2086
    debootstrap --variant=minbase "$suite" "$work" ${DEBIAN_MIRROR:-}
    printf '127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n' >"$work/etc/hosts"
    printf '#!/bin/sh\nexit 101\n' >"$work/usr/sbin/policy-rc.d"
    chmod 755 "$work/usr/sbin/policy-rc.d"
    chroot "$work" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin DEBIAN_FRONTEND=noninteractive \
        apt-get -o Acquire::Check-Valid-Until=false update
    chroot "$work" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin DEBIAN_FRONTEND=noninteractive \
        apt-get install -y --no-install-recommends "$@"
    chroot "$work" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin apt-get clean
    mkdir -p "$work/tmp"
    chmod 1777 "$work/tmp"
    local version
    if [ -x "$work/usr/sbin/mysqld" ] && [ ! -e "$work/usr/sbin/mariadbd" ]; then
        version=$(chroot "$work" /usr/sbin/mysqld --version)
    else
        version=$(chroot "$work" /usr/sbin/mariadbd --version)
    fi
    echo "$version" >"$work/$MARKER"
    remove_tree "$final"
    mv "$work" "$final"
}

declare -A TREE_SUITE=([mysql-sid]=sid [mariadb-trixie]=trixie)
declare -A TREE_PKGS=([mysql-sid]="mysql-server-core mysql-client-core"
    [mariadb-trixie]="mariadb-server mariadb-client")
declare -A TREE_PID=()

if [ "$WITH_CHROOTS" = 1 ]; then
    mkdir -p "$SERVERS_DIR"
    for name in mysql-sid mariadb-trixie; do
        if [ -e "$SERVERS_DIR/$name/$MARKER" ] && [ "${ACTIX_MYSQL_REBUILD:-0}" != 1 ]; then
            log "$name: already built"
            continue
        fi
        log "$name: building (debootstrap ${TREE_SUITE[$name]}; log in $SERVERS_DIR/$name.log)"
        # shellcheck disable=SC2086
        (build_tree "$name" "${TREE_SUITE[$name]}" ${TREE_PKGS[$name]}) >"$SERVERS_DIR/$name.log" 2>&1 &
        TREE_PID[$name]=$!
    done
    for name in "${!TREE_PID[@]}"; do
        if wait "${TREE_PID[$name]}"; then
            log "$name: built"
        else
            log "$name: FAILED to build; this server will be unavailable. Last lines of $SERVERS_DIR/$name.log:"
            tail -n 15 "$SERVERS_DIR/$name.log" | sed 's/^/    /'
            remove_tree "$SERVERS_DIR/$name.partial"
        fi
    done
fi

# ---------------------------------------------------------------- summary
echo
echo "Installed test servers (took $(($(date +%s) - START)) s):"
status=0
if native_ready; then
    echo "  native          $(mariadbd --version)"
else
    echo "  native          MariaDB NOT AVAILABLE"
    status=1
fi
if [ "$WITH_CHROOTS" = 1 ]; then
    for name in mysql-sid mariadb-trixie; do
        if [ -e "$SERVERS_DIR/$name/$MARKER" ]; then
            printf '  %-15s %s\n' "$name" "$(sed 's/ (-- .*//' "$SERVERS_DIR/$name/$MARKER")"
        else
            printf '  %-15s UNAVAILABLE (build failed; tests run without it)\n' "$name"
        fi
    done
    echo "  chroot trees in $SERVERS_DIR"
else
    echo "  chroot trees skipped (--only mariadb / --without-chroots)"
fi
exit $status
