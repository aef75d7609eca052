# Shared settings for the gpio-sim VM: a QEMU x86-64 guest on Debian's own kernel with the kernel's GPIO
# simulator (gpio-sim, built out of tree here: Debian does not ship it), in which the real pptp-gateway binary
# drives a simulated "pinctrl-bcm2711" chip. Source it; it sets `repo`.
# Everything it builds is cached under $PGW_GPIO_DIR (default $PGW_CACHE/gpio-sim, /var/cache/pptp-gateway/gpio-sim), keyed by its
# inputs. It uses no network, namespace or tap, so it can run beside the interop VM.

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
sim_scripts="$repo/scripts/gpio-sim"
sim_dir="${PGW_GPIO_DIR:-${PGW_CACHE:-/var/cache/pptp-gateway}/gpio-sim}"

say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }
now_ms() { date +%s%3N; }

require_tools() { # tool...
  local missing=() tool
  for tool in "$@"; do
    command -v "$tool" >/dev/null 2>&1 || missing+=("$tool")
  done
  ((${#missing[@]} == 0)) || die "missing host tools: ${missing[*]} (run scripts/setup)"
}

hash_of() { # file... -> one sha256 over their names and contents
  local f
  for f in "$@"; do printf '%s\n' "$(basename "$f")"; cat "$f"; done | sha256sum | cut -d' ' -f1
}

# The versioned kernel image package that linux-image-amd64 depends on (the interop VM's kernel too).
kernel_package() {
  apt-cache depends linux-image-amd64 2>/dev/null |
    awk '$1 == "Depends:" && $2 ~ /^linux-image-[0-9]/ { print $2; exit }'
}

candidate() { # package -> the version apt would install
  apt-cache policy "$1" 2>/dev/null | awk '$1 == "Candidate:" { print $2; exit }'
}

# apt-get download PACKAGE[=VERSION] into $sim_dir/debs unless a matching file is there; prints its path.
fetch_deb() { # name version
  local name=$1 version=$2
  mkdir -p "$sim_dir/debs"
  local found
  found=$(find "$sim_dir/debs" -maxdepth 1 -name "${name}_${version//:/%3a}_*.deb" -print -quit)
  if [ -z "$found" ]; then
    # The cache belongs to root, so apt's unprivileged _apt sandbox user could not write there.
    (cd "$sim_dir/debs" && apt-get download -qq -o APT::Sandbox::User=root "$name=$version") >&2 ||
      die "apt-get download $name=$version failed"
    found=$(find "$sim_dir/debs" -maxdepth 1 -name "${name}_${version//:/%3a}_*.deb" -print -quit)
  fi
  [ -n "$found" ] || die "no .deb for $name $version after download"
  echo "$found"
}
