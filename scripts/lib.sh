# Shared helpers for the scripts in this folder. Source it; it sets `repo` to the repository root.
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

# Where every script caches what it builds or downloads (VM images, kernel modules, package roots), keyed by
# its inputs so fresh clones reuse it. PGW_CACHE moves the lot, e.g. to time a cold run beside a warm cache.
cache_root="${PGW_CACHE:-/var/cache/pptp-gateway}"

say() { printf '\033[1m==> %s\033[0m\n' "$*"; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# The runtime identifiers scripts/build knows, and the extra publish properties each needs.
publish_props() {
  case "$1" in
    linux-x64) echo "" ;;
    # Cross-link with clang (the default driver) and Debian's aarch64 binutils for stripping.
    linux-arm64) echo "-p:ObjCopyName=aarch64-linux-gnu-objcopy" ;;
    linux-arm) echo "" ;;
    *) return 1 ;;
  esac
}

# The Debian mirror the host's apt uses (deb822 .sources or one-line .list files), for the roots built from it
# (scripts/image, scripts/package-root, scripts/gpio-sim/build-arm64); no host is named here.
debian_mirror() {
  local uri
  uri=$(awk '/^URIs:/ { u = $2 } /^Suites:/ { for (i = 2; i <= NF; i++) if ($i !~ /-(security|updates|backports)$/) { print u; exit } }' \
    /etc/apt/sources.list.d/*.sources 2>/dev/null | grep -m1 /debian || true)
  [ -n "$uri" ] || uri=$(awk '$1 == "deb" && $2 ~ /\/debian\/?$/ { print $2; exit }' \
    /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null || true)
  [ -n "$uri" ] || die "no Debian mirror in /etc/apt/sources.list or sources.list.d"
  echo "$uri"
}
