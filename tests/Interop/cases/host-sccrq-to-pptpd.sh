# The host <-> guest path carries TCP 1723: a hand-made Start-Control-Connection-Request from the host
# namespace to pptpd in the guest must get a Start-Control-Connection-Reply (RFC 2637 section 2.2).
case_description="raw SCCRQ from the host to pptpd on 192.0.2.2:1723 -> SCCRP"

run_case() {
  require "pptpd started" guest_pptpd_start
  local request="$artifacts/$case_name.sccrq.bin" reply="$artifacts/$case_name.sccrp.bin"
  pptp_sccrq >"$request"
  require "SCCRQ is 156 bytes" test "$(stat -c %s "$request")" -eq 156

  local t0 t1
  t0=$(now_ms)
  require "TCP to $vm_guest_ip:1723, SCCRQ sent, 156-byte reply read" bash -c "
    exec 3<>/dev/tcp/$vm_guest_ip/1723
    cat '$request' >&3
    timeout 10 head -c 156 <&3 >'$reply'
    exec 3>&-
    test \$(stat -c %s '$reply') -eq 156"
  t1=$(now_ms)
  step "SCCRP after $((t1 - t0)) ms"

  local hex
  hex=$(hex_bytes "$reply")
  echo "      SCCRP: ${hex:0:64}..."
  check "length 156" test "$(be16 "$hex" 0)" -eq 156
  check "PPTP message type 1 (control)" test "$(be16 "$hex" 2)" -eq 1
  check "magic cookie 0x1A2B3C4D" test "$(be32 "$hex" 4)" -eq $((0x1A2B3C4D))
  check "control message type 2 (Start-Control-Connection-Reply)" test "$(be16 "$hex" 8)" -eq 2
  check "protocol version 1.0" test "$(be16 "$hex" 12)" -eq $((0x0100))
  check "result code 1 (successful channel establishment)" test "$((16#${hex:28:2}))" -eq 1
  step "pptpd says: framing caps $(be32 "$hex" 16), bearer caps $(be32 "$hex" 20), max channels $(be16 "$hex" 24), firmware 0x$(printf %04x "$(be16 "$hex" 26)"), host \"$(tail -c +29 "$reply" | head -c 64 | tr -d '\0')\", vendor \"$(tail -c +93 "$reply" | head -c 64 | tr -d '\0')\""
  check_within 10 "pptpd logged the request" guest "grep -i 'START CTRL CONN RPLY' /var/log/messages"
  local sccrp_filter="ip.src == $vm_guest_ip && pptp.control_message_type == 2"
  check_within 15 "capture: tshark decodes a Start-Control-Connection-Reply from the guest" \
    pcap_at_least "$artifacts/$case_name.pcap" "$sccrp_filter" 1
  check "capture: exactly one Start-Control-Connection-Reply" \
    test "$(pcap_count "$artifacts/$case_name.pcap" "$sccrp_filter")" -eq 1
  # On the wire, without the host's shell and connect time: SCCRQ frame -> SCCRP frame.
  local times
  times=$(tshark -n -r "$artifacts/$case_name.pcap" -Y 'pptp.control_message_type' \
    -T fields -e frame.time_relative 2>/dev/null | tr '\n' ' ')
  step "on the wire: SCCRQ at ${times%% *} s, SCCRP at $(cut -d' ' -f2 <<<"$times") s"
}
