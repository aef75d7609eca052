# The API for interop test cases (tests/Interop/cases/*.sh). scripts/interop-vm/run-case sources lib.sh,
# peers.sh, this file and then the case, inside the host network namespace, so every host-side command a
# case runs (socat, tcpdump, our gateway) is already on the tap's side: 192.0.2.1 here, 192.0.2.2 the guest.
#
# A case file sets a few variables and defines run_case:
#   case_description="one line"
#   case_capture=host            host: tcpdump on the tap (default); guest: the case calls
#                                guest_capture_start and that file becomes <case>.pcap; none
#   run_case() { ...checks...; }
# A case passes when run_case returns 0 and no check failed. The harness resets the guest's peers before
# and after, keeps every log and capture under artifacts/interop/, checks each pcap with tshark (no
# "Malformed") and, on failure, prints the guest's pppd logs next to the host-side logs.
#
# Functions for cases:
#   step MESSAGE                        progress line with the time since the case started
#   check DESCRIPTION CMD...            run CMD; record ok/FAILED and go on
#   require DESCRIPTION CMD...          like check, but a failure ends the case
#   fail MESSAGE                        record a failure and end the case
#   wait_until SECONDS DESCRIPTION CMD...   poll CMD every 0.2 s; a timeout is a failure that ends the case
#   check_within SECONDS DESCRIPTION CMD... like check, but polls CMD until it holds or the deadline passes:
#                                       for whatever arrives on its own time (a capture, a log line, a counter)
#   host_start NAME CMD...              background host process, output in artifacts/interop/<case>.NAME.log,
#                                       stopped (TERM, then KILL) at the end of the case
#   host_stop NAME                      stop it now
#   host_log NAME                       the path of that log
#   guest CMD... | guest - <<EOF        run in the VM (scripts/interop-vm/guest); guest --put/--get for files
#   guest_* from peers.sh               pptpd / pptp-linux control (see there)
#   guest_capture_start IFACE [NETNS]   tcpdump in the guest (first 300 bytes of each frame); fetched at the
#                                       end (<case>.pcap or .guest.pcap)
#   guest_capture_stop_and_fetch FILE   stop it now and fetch it (e.g. to inspect it inside run_case)
#   pcap_count FILE DISPLAY-FILTER      frames matching a tshark display filter
#   pcap_at_least FILE FILTER N         true once the capture holds N such frames (use with check_within)
#   pcap_check FILE                     tshark -V shows no "Malformed" and the file has frames
#   pptp_sccrq / pptp_ocrq CALL_ID SERIAL   RFC 2637 control messages on stdout (binary)
#   hex_bytes FILE [OFFSET [LENGTH]]    the bytes as one hex string
#   be16 HEX OFFSET / be32 HEX OFFSET   a big-endian field from such a hex string, in decimal
#   gre_lcp_configure_request CALL_ID SEQ MAGIC   an enhanced GRE packet carrying an LCP Configure-Request
#   tcp_transfer_check FROM TO DEST_IP PORT BYTES   FROM/TO: host, guest or guest:NETNS; TO listens on
#                                       DEST_IP:PORT; BYTES random bytes over TCP, SHA-256 compared; each end
#                                       gives up after $transfer_timeout s (default 120; a case may set it)
# Variables: case_name, artifacts (artifacts/interop), vm_host_ip, vm_guest_ip, vm_tap, case_started_ms

artifacts=$interop_artifacts  # artifacts/interop, or artifacts/interop/<suite> for a later generation
case_failures=()
case_checks=0
declare -A host_pids=()
guest_capture_active=0
guest_capture_file=/tmp/pgw-capture.pcap
# The serial command channel moves ~50 KB/s under TCG: keep headers (control messages are < 300 bytes on
# the wire), drop the encrypted payload beyond them. tshark reports such frames as cut short, not malformed.
guest_capture_snaplen=300

step() {
  printf '  [%6.1fs] %s\n' "$(( $(now_ms) - case_started_ms ))e-3" "$*"
}

record_failure() {
  case_failures+=("$*")
  printf '  [%6.1fs] FAILED: %s\n' "$(( $(now_ms) - case_started_ms ))e-3" "$*"
}

run_check() { # description cmd... -> the command's status
  local description=$1 output status=0
  shift
  output=$("$@" 2>&1) || status=$?
  report_check "$description" "$status" "$output"
}

# Records one check's outcome from a run already made, with what the command said as evidence.
report_check() { # description status output -> status
  local description=$1 status=$2 output=$3
  case_checks=$((case_checks + 1))
  if ((status == 0)); then
    step "ok: $description"
    # Evidence, not noise: the last lines of what the command said.
    [ -z "$output" ] || printf '%s\n' "$output" | tail -"${check_output_lines:-6}" | sed 's/^/      | /'
    return 0
  fi
  record_failure "$description (exit $status)"
  [ -z "$output" ] || printf '%s\n' "$output" | tail -20 | sed 's/^/      | /'
  return 1
}

# Cases run under set -e: check never returns non-zero, so one failed check does not hide the next.
check() { # description cmd...
  run_check "$@" || true
}

require() { # description cmd...
  run_check "$@" || exit 1
}

fail() {
  record_failure "$*"
  exit 1
}

# A capture, a log or a counter is written on its own time: a check on one waits for its condition with a
# deadline instead of reading once (a capture read once, before tcpdump flushed, failed CI on a clean clone).
# The run that passed is the one reported: running the command once more to show it would ask a condition
# that held once (a ping over a lossy link) to hold twice (2026-12-03, under load: a ping answered, then lost).
check_within() { # seconds description cmd...
  local seconds=$1 description=$2 deadline output status
  shift 2
  deadline=$(( $(now_ms) + seconds * 1000 ))
  while :; do
    status=0
    output=$("$@" 2>&1) || status=$?
    ((status != 0)) || break
    if (( $(now_ms) >= deadline )); then
      description+=" (not within ${seconds}s)"
      break
    fi
    sleep 0.2
  done
  report_check "$description" "$status" "$output" || true
}

wait_until() { # seconds description cmd...
  local seconds=$1 description=$2 deadline
  shift 2
  deadline=$(( $(now_ms) + seconds * 1000 ))
  until "$@" >/dev/null 2>&1; do
    if (( $(now_ms) >= deadline )); then
      fail "timed out after ${seconds}s waiting for: $description"
    fi
    sleep 0.2
  done
  step "ok: $description"
}

host_log() { echo "$artifacts/$case_name.$1.log"; }

host_start() { # name cmd...
  local name=$1
  shift
  [ -z "${host_pids[$name]:-}" ] || die "host_start: $name already runs"
  setsid "$@" </dev/null >"$(host_log "$name")" 2>&1 &
  host_pids[$name]=$!
  step "started $name (pid $!): $*"
}

host_stop() { # name
  local name=$1 pid i
  pid=${host_pids[$name]:-}
  [ -n "$pid" ] || return 0
  unset "host_pids[$name]"
  # setsid made the process a group leader: signal its group so children (a shell's tools) stop too.
  kill -INT -- "-$pid" 2>/dev/null || kill -INT "$pid" 2>/dev/null || return 0
  for i in $(seq 30); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -TERM -- "-$pid" 2>/dev/null || true
  for i in $(seq 20); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -KILL -- "-$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}

host_capture_start() {
  host_start capture tcpdump -i "$vm_tap" -n -U -w "$artifacts/$case_name.pcap"
  wait_until 10 "host capture on $vm_tap" grep -q "listening on" "$(host_log capture)"
}

guest_capture_start() { # iface [netns]
  local iface=$1 prefix=""
  [ -z "${2:-}" ] || prefix="ip netns exec $2"
  guest - <<GUEST
rm -f $guest_capture_file /tmp/pgw-capture.log
setsid $prefix tcpdump -i $iface -n -U -s $guest_capture_snaplen -w $guest_capture_file </dev/null >/tmp/pgw-capture.log 2>&1 &
for i in \$(seq 50); do grep -q "listening on" /tmp/pgw-capture.log && exit 0; sleep 0.1; done
cat /tmp/pgw-capture.log; exit 1
GUEST
  guest_capture_active=1
  step "guest capture on $iface${2:+ (namespace $2)}"
}

guest_capture_stop_and_fetch() { # local file
  guest 'pkill -INT -x tcpdump; for i in $(seq 30); do pgrep -x tcpdump >/dev/null || break; sleep 0.1; done' \
    >/dev/null 2>&1 || true
  guest --get "$guest_capture_file" "$1" || warn "could not fetch the guest capture"
  guest_capture_active=0
}

pcap_count() { # file filter
  tshark -n -r "$1" -Y "$2" 2>/dev/null | wc -l
}

pcap_at_least() { # file filter n
  local n
  n=$(pcap_count "$1" "$2")
  echo "$n frames match '$2' (want >= $3)"
  ((n >= $3))
}

pcap_check() { # file
  local file=$1 decoded frames malformed
  [ -s "$file" ] || { echo "no capture file $file"; return 1; }
  # One tshark run (it takes seconds to start on a busy machine): full decode, then count.
  decoded=$(tshark -n -r "$file" -V 2>&1) || { printf '%s\n' "$decoded" | tail -5; return 1; }
  frames=$(grep -c '^Frame [0-9]*:' <<<"$decoded" || true)
  malformed=$(grep -ci 'malformed' <<<"$decoded" || true)
  ((frames > 0)) || { echo "$file has no frames"; return 1; }
  ((malformed == 0)) || { grep -i -B30 'malformed' <<<"$decoded" | grep -E '^Frame|[Mm]alformed' | head; return 1; }
  echo "$frames frames, none malformed"
}

# --- PPTP control messages (RFC 2637 section 2), built byte by byte -------------------------------------

# Hex <-> bytes with coreutils only (xxd is not installed everywhere).
hex_to_binary() { # hex on stdin -> bytes on stdout
  local hex
  hex=$(tr -d ' \n')
  # shellcheck disable=SC2059 # the format IS the data: \xHH escapes
  printf "$(sed 's/../\\x&/g' <<<"$hex")"
}

binary_to_hex() { od -An -v -tx1 | tr -d ' \n'; }

zeros_hex() { # count
  printf '%*s' "$(($1 * 2))" '' | tr ' ' 0
}

ascii_hex_padded() { # text length
  local hex
  hex=$(printf '%s' "$1" | binary_to_hex)
  printf '%s%s' "$hex" "$(zeros_hex $(($2 - ${#hex} / 2)))"
}

# Start-Control-Connection-Request: 156 bytes; version 1.0, sync framing, analog bearer.
pptp_sccrq() {
  {
    printf '009c 0001 1a2b3c4d 0001 0000'          # length, message type (control), magic, type 1, reserved
    printf '0100 0000'                             # protocol version 1.0, reserved
    printf '00000001 00000001 0000 0000'           # framing caps, bearer caps, max channels, firmware revision
    ascii_hex_padded pgw-interop 64                 # host name
    ascii_hex_padded pptp-gateway-interop 64        # vendor
  } | tr -d ' ' | hex_to_binary
}

# Outgoing-Call-Request: 168 bytes.
pptp_ocrq() { # call_id serial
  {
    printf '00a8 0001 1a2b3c4d 0007 0000'
    printf '%04x %04x' "$1" "$2"                   # call ID, call serial number
    printf '0000012c 05f5e100'                     # minimum BPS 300, maximum BPS 100000000
    printf '00000003 00000003'                     # bearer type any, framing type any
    printf '0040 0000'                             # packet receive window 64, processing delay 0
    printf '0000 0000'                             # phone number length, reserved
    zeros_hex 64; zeros_hex 64                     # phone number, subaddress
  } | tr -d ' ' | hex_to_binary
}

hex_bytes() { # file [offset [length]]
  local offset=${2:-0} length=${3:-}
  if [ -n "$length" ]; then
    tail -c +"$((offset + 1))" "$1" | head -c "$length" | binary_to_hex
  else
    tail -c +"$((offset + 1))" "$1" | binary_to_hex
  fi
}

be16() { echo $((16#${1:$(($2 * 2)):4})); }
be32() { echo $((16#${1:$(($2 * 2)):8})); }

# Enhanced GRE (RFC 2637 section 4.1): K and S set, version 1, protocol 0x880B, then PPP in HDLC-like
# address/control form carrying LCP Configure-Request <magic>.
gre_lcp_configure_request() { # call_id seq magic
  local ppp
  ppp="ff03c021""0101000a""0506$(printf '%08x' "$3")"
  {
    printf '3001880b%04x%04x%08x' "$(( ${#ppp} / 2 ))" "$1" "$2"
    printf '%s' "$ppp"
  } | hex_to_binary
}

# --- traffic through a tunnel ------------------------------------------------------------------------

guest_netns_prefix() { # guest|guest:NETNS -> "" or "ip netns exec NETNS"
  local netns=${1#guest}
  netns=${netns#:}
  [ -z "$netns" ] || echo "ip netns exec $netns"
}

# Sends BYTES random bytes over one TCP connection from FROM to TO (host, guest or guest:NETNS; the
# receiver listens on DEST_IP:PORT) and compares the SHA-256 on both ends.
tcp_transfer_check() { # from to dest_ip port bytes
  local from=$1 to=$2 dest=$3 port=$4 bytes=$5 sent="" received="" receiver_pid="" prefix i
  local received_file="$artifacts/$case_name.transfer.sum"
  rm -f "$received_file"
  if [ "$to" = host ]; then
    # The sum and the byte count, so a transfer cut short by the timeout says so instead of only differing.
    (timeout ${transfer_timeout:-120} socat -u "TCP-LISTEN:$port,reuseaddr,bind=$dest" - >"$received_file.bin"
     echo "$(sha256sum <"$received_file.bin" | cut -d' ' -f1) $(stat -c %s "$received_file.bin")" >"$received_file"
     rm -f "$received_file.bin") &
    receiver_pid=$!
    for i in $(seq 50); do ss -Hltn "sport = :$port" | grep -q . && break; sleep 0.1; done
  else
    prefix=$(guest_netns_prefix "$to")
    guest - <<GUEST || { echo "the guest receiver did not start"; return 1; }
rm -f /tmp/pgw-rx.sum /tmp/pgw-rx.bin
setsid $prefix sh -c 'timeout ${transfer_timeout:-120} socat -u TCP-LISTEN:$port,reuseaddr,bind=$dest - >/tmp/pgw-rx.bin; echo "\$(sha256sum </tmp/pgw-rx.bin | cut -d" " -f1) \$(stat -c %s /tmp/pgw-rx.bin)" >/tmp/pgw-rx.sum; rm -f /tmp/pgw-rx.bin' </dev/null >/dev/null 2>&1 &
for i in \$(seq 50); do $prefix ss -Hltn "sport = :$port" | grep -q . && exit 0; sleep 0.1; done
exit 1
GUEST
  fi
  if [ "$from" = host ]; then
    local sample="$artifacts/$case_name.transfer.bin"
    head -c "$bytes" /dev/urandom >"$sample"
    sent=$(sha256sum <"$sample" | cut -d' ' -f1)
    timeout ${transfer_timeout:-120} socat -u - "TCP:$dest:$port,connect-timeout=10" <"$sample" || { echo "the host could not send"; return 1; }
    rm -f "$sample"
  else
    prefix=$(guest_netns_prefix "$from")
    # The guest command channel's own limit (120 s) must not cut a transfer the case gives longer.
    sent=$(PGW_GUEST_TIMEOUT=$(( ${transfer_timeout:-120} + 30 )) guest - <<GUEST
head -c $bytes /dev/urandom >/tmp/pgw-tx.bin
$prefix timeout ${transfer_timeout:-120} socat -u - TCP:$dest:$port,connect-timeout=10 </tmp/pgw-tx.bin || exit 1
sha256sum </tmp/pgw-tx.bin | cut -d' ' -f1
GUEST
    ) || { echo "the guest could not send: $sent"; return 1; }
  fi
  if [ "$to" = host ]; then
    wait "$receiver_pid" || true
    received=$(cat "$received_file" 2>/dev/null || true)
  else
    # The host's socat ends when the kernel has the data, not the guest: on a lossy link hundreds of kB may
    # still be on the way (a run gave up after 20 s with them in flight), so wait as long as the receiver may.
    received=$(PGW_GUEST_TIMEOUT=$(( ${transfer_timeout:-120} + 30 )) guest "for i in \$(seq $(( ${transfer_timeout:-120} * 5 ))); do [ -s /tmp/pgw-rx.sum ] && break; sleep 0.2; done; cat /tmp/pgw-rx.sum")
  fi
  rm -f "$received_file"
  local received_bytes=${received#* }
  received=${received%% *}
  if [ -n "$sent" ] && [ "$sent" = "$received" ]; then
    echo "$bytes bytes $from -> $to ($dest:$port), sha256 $sent on both ends"
    return 0
  fi
  if [ -n "$received" ] && [ "$received_bytes" != "$bytes" ]; then
    echo "received ${received_bytes} of $bytes bytes within ${transfer_timeout:-120} s (sha256 of what arrived: $received)"
  else
    echo "sha256 differs: sent ${sent:-?}, received ${received:-nothing} (${received_bytes:-0} bytes)"
  fi
  return 1
}
