# Shared settings for the board VM: the shipped SD-card image (scripts/image) booted whole in
# qemu-system-aarch64 -M virt (TCG), its virtio NIC on a tap in the host network namespace pgw-board.
# Source it; it sets `repo`. It uses its own namespace and tap (not the interop VM's pgw-interop/pgwtap0) and
# its own cache dir, so it can run beside the interop and gpio-sim VMs.

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
board_scripts="$repo/scripts/board-vm"
board_dir="${PGW_BOARD_DIR:-${PGW_CACHE:-/var/cache/pptp-gateway}/board-vm}"

board_netns=pgw-board
board_tap=pgwtap1
# The LAN the board sits on, inside the namespace only: the host's end of the tap and the one lease dnsmasq
# hands the board (TEST-NET-3 addresses, routed nowhere).
board_host_ip=203.0.113.1
board_guest_ip=203.0.113.10
board_mac=52:54:00:70:67:01

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

# Byte offset of partition N of a disk image, from its partition table.
partition_offset() { # image n
  sfdisk -J "$1" | jq -r ".partitiontable.partitions[$(($2 - 1))].start * 512"
}
