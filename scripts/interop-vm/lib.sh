# Shared settings and helpers for the interop VM scripts. Source it; it sets `repo` to the repository root.
# Everything the VM leaves on disk lives under $repo/.vm/interop (ignored by git), or $PGW_VM_DIR.

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
vm_scripts="$repo/scripts/interop-vm"

# Peer generations: each is a Debian suite whose pppd, pptpd, pptp-linux and kernel make one VM image. The
# first is the default (its image in $PGW_VM_DIR, artifacts in artifacts/interop); every other one has its
# image in $PGW_VM_DIR-<suite> and its artifacts in artifacts/interop/<suite>. PGW_GUEST_SUITE picks one for
# build-image, boot, guest, run-case and shutdown; scripts/interop runs each generation in turn.
interop_generations=(bookworm trixie)
vm_base_dir="${PGW_VM_DIR:-$repo/.vm/interop}"

# The network: one namespace on the host holding the tap; the guest sits on the other end of the tap.
vm_netns="${PGW_NETNS:-pgw-interop}"
vm_tap="${PGW_TAP:-pgwtap0}"
vm_host_ip=192.0.2.1
vm_guest_ip=192.0.2.2
vm_prefix=24

# Selects a generation: its image directory, the files of its running VM and where its cases' artifacts go.
vm_select_generation() { # suite
  local known
  for known in "${interop_generations[@]}"; do
    [ "$1" = "$known" ] || continue
    guest_suite=$1
    if [ "$guest_suite" = "${interop_generations[0]}" ]; then
      vm_dir=$vm_base_dir
      interop_artifacts="$repo/artifacts/interop"
    else
      vm_dir=$vm_base_dir-$guest_suite
      interop_artifacts="$repo/artifacts/interop/$guest_suite"
    fi
    vm_pidfile="$vm_dir/run/qemu.pid"
    vm_console_log="$vm_dir/run/console.log"
    vm_command_socket="$vm_dir/run/command.sock"
    vm_kernel="$vm_dir/image/vmlinuz"
    vm_initrd="$vm_dir/image/initrd.zst"
    return 0
  done
  printf 'error: unknown peer generation %s (known: %s)\n' "$1" "${interop_generations[*]}" >&2
  exit 1
}
vm_select_generation "${PGW_GUEST_SUITE:-${interop_generations[0]}}"

say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }
warn() { printf 'warning: %s\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

require_root() {
  [ "$(id -u)" = 0 ] || die "run as root (network namespaces, taps and debootstrap need it)"
}

require_tools() { # tool...
  local missing=() tool
  for tool in "$@"; do
    command -v "$tool" >/dev/null 2>&1 || missing+=("$tool")
  done
  ((${#missing[@]} == 0)) || die "missing host tools: ${missing[*]} (run scripts/setup)"
}

# Milliseconds since the epoch, for the timings the scripts print.
now_ms() { date +%s%3N; }

vm_is_running() {
  [ -f "$vm_pidfile" ] || return 1
  local pid
  pid=$(cat "$vm_pidfile" 2>/dev/null) || return 1
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && grep -q qemu "/proc/$pid/cmdline" 2>/dev/null
}
