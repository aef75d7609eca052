# Shared settings for the gpio-sim VM: a QEMU x86-64 guest on Debian's own kernel with the kernel's GPIO
# simulator (gpio-sim, built out of tree here: Debian does not ship it), in which the real pptp-gateway binary
# drives a simulated "pinctrl-bcm2711" chip; and the module's sources and build steps, shared by ./build (amd64)
# and ./build-arm64 (the SD-card image's kernel, for scripts/board-vm). Source it; it sets `repo`.
# Everything it builds is cached under $PGW_GPIO_DIR (default $PGW_CACHE/gpio-sim, /var/cache/pptp-gateway/gpio-sim)
# and $PGW_GPIO_ARM64_DIR (default $PGW_CACHE/gpio-sim-arm64), keyed by its inputs. It uses no network,
# namespace or tap, so it can run beside the interop VM.

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
source "$repo/scripts/lib.sh"   # cache_root, debian_mirror; say and die are redefined below (to stderr)
sim_scripts="$repo/scripts/gpio-sim"
sim_dir="${PGW_GPIO_DIR:-$cache_root/gpio-sim}"
sim_arm64_dir="${PGW_GPIO_ARM64_DIR:-$cache_root/gpio-sim-arm64}"

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

# gpio-sim's three source files (drivers/gpio/gpio-sim.c and gpiolib.h, kernel/irq/irq_sim.c) from a
# linux-source-SERIES .deb into DIR, streamed: the 150 MB tarball inside is never written out.
extract_module_sources() { # deb series dir
  local deb=$1 series=$2 dir=$3
  mkdir -p "$dir"
  dpkg-deb --fsys-tarfile "$deb" | tar -xO "./usr/src/linux-source-$series.tar.xz" | xz -dc |
    tar -x -C "$dir" --strip-components=1 "linux-source-$series/drivers/gpio/gpio-sim.c" \
      "linux-source-$series/drivers/gpio/gpiolib.h" "linux-source-$series/kernel/irq/irq_sim.c" ||
    die "cannot take gpio-sim's sources from $(basename "$deb")"
}

# The out-of-tree build of gpio-sim.ko in BUILD, from the sources extract_module_sources left in SRC: Debian's
# kernels have neither CONFIG_GPIO_SIM nor CONFIG_IRQ_SIM, so the IRQ simulator is linked into the same module.
module_tree() { # src build
  local src=$1 build=$2
  mkdir -p "$build"
  cp "$src/drivers/gpio/gpio-sim.c" "$build/gpio-sim-main.c"
  cp "$src/drivers/gpio/gpiolib.h" "$src/kernel/irq/irq_sim.c" "$build/"
  # irq_sim.c calls irq_to_desc(), which the kernel does not export to modules; generic_handle_irq() is the
  # exported call that runs the same descriptor's handler (handle_simple_irq, set by irq_sim_domain_map).
  grep -q 'handle_simple_irq(irq_to_desc(irqnum));' "$build/irq_sim.c" ||
    die "irq_sim.c changed; the irq_to_desc replacement needs a look"
  sed -i 's|handle_simple_irq(irq_to_desc(irqnum));|generic_handle_irq(irqnum);|' "$build/irq_sim.c"
  printf 'obj-m := gpio-sim.o\ngpio-sim-y := gpio-sim-main.o irq_sim.o\n' >"$build/Kbuild"
}

# Runs the kbuild command (make -C HEADERS M=BUILD modules, however it is reached), its output in LOG, then
# checks that the module it made is for KVER (the first word of its vermagic).
make_module() { # log ko kver command...
  local log=$1 ko=$2 kver=$3 vermagic
  shift 3
  "$@" >"$log" 2>&1 || { tail -30 "$log" >&2; die "module build failed (log: $log)"; }
  vermagic=$(modinfo -F vermagic "$ko") || die "no module at $ko after the build (log: $log)"
  [ "${vermagic%% *}" = "$kver" ] || die "$(basename "$ko") is for '$vermagic', not $kver"
}

# The versioned kernel package a dpkg status file (a root's /var/lib/dpkg/status) has installed, as NAME=VERSION
# (linux-image-6.12.117+deb13-arm64=6.12.117-1); fails unless there is exactly one.
installed_kernel() { # status-file
  awk -v RS= -F '\n' '{
      p = s = v = ""
      for (i = 1; i <= NF; i++) {
        if ($i ~ /^Package: /) p = substr($i, 10)
        else if ($i ~ /^Status: /) s = substr($i, 9)
        else if ($i ~ /^Version: /) v = substr($i, 10)
      }
      if (p ~ /^linux-image-[0-9]/ && s == "install ok installed") { print p "=" v; n++ }
    } END { exit n != 1 }' "$1"
}
