# The host <-> guest path carries raw GRE (IP protocol 47) both ways. The host opens a control connection
# and an outgoing call by hand; pptpd launches pppd, whose LCP Configure-Requests reach the host in
# enhanced GRE; the host sends one LCP Configure-Request in GRE with pptpd's call ID and pppd acknowledges it.
# The host must hold a raw GRE socket open before the call starts: otherwise its kernel answers pppd's first
# GRE packet with ICMP protocol-unreachable, pptpd's connected GRE socket reads ENOPROTOOPT and pptpd hangs
# up the call at once ("GRE read or PTY write failed").
case_description="SCCRQ + OCRQ from the host, then LCP over enhanced GRE both ways with pptpd's pppd"

run_case() {
  require "pptpd started" guest_pptpd_start
  local our_call_id=4660 magic=$((0x5047574B)) script="$artifacts/$case_name.control.sh"
  pptp_sccrq >"$artifacts/$case_name.sccrq.bin"
  pptp_ocrq "$our_call_id" 1 >"$artifacts/$case_name.ocrq.bin"
  # One shell holds the control connection open while the GRE exchange runs, then closes it.
  cat >"$script" <<SCRIPT
set -euo pipefail
exec 3<>/dev/tcp/$vm_guest_ip/1723
cat '$artifacts/$case_name.sccrq.bin' >&3
timeout 10 head -c 156 <&3 >'$artifacts/$case_name.sccrp.bin'
cat '$artifacts/$case_name.ocrq.bin' >&3
timeout 10 head -c 32 <&3 >'$artifacts/$case_name.ocrp.bin'
echo ocrp >'$artifacts/$case_name.control.state'
sleep 15
SCRIPT
  host_start gre-socket socat -u IP4-RECV:47 "OPEN:$artifacts/$case_name.gre-received.bin,creat,append"
  host_start control bash "$script"
  wait_until 20 "Outgoing-Call-Reply received" test -s "$artifacts/$case_name.control.state"

  local hex pptpd_call_id
  hex=$(hex_bytes "$artifacts/$case_name.ocrp.bin")
  echo "      OCRP: $hex"
  require "OCRP: control message type 8 (Outgoing-Call-Reply)" test "$(be16 "$hex" 8)" -eq 8
  check "OCRP: peer's call ID is ours ($our_call_id)" test "$(be16 "$hex" 14)" -eq "$our_call_id"
  check "OCRP: result code 1 (connected)" test "$((16#${hex:32:2}))" -eq 1
  pptpd_call_id=$(be16 "$hex" 12)
  step "pptpd's call ID: $pptpd_call_id"

  wait_until 30 "guest -> host: GRE with our call ID carrying pppd's LCP Configure-Request" \
    bash -c "test \"\$(tshark -n -r '$artifacts/$case_name.pcap' -Y 'ip.src == $vm_guest_ip && gre.key.call_id == $our_call_id && lcp && ppp.code == 1' 2>/dev/null | wc -l)\" -gt 0"

  gre_lcp_configure_request "$pptpd_call_id" 0 "$magic" >"$artifacts/$case_name.gre.bin"
  require "host -> guest: GRE packet sent (socat IP4-SENDTO protocol 47)" \
    socat -u "OPEN:$artifacts/$case_name.gre.bin" "IP4-SENDTO:$vm_guest_ip:47"
  wait_until 20 "guest pppd received our LCP Configure-Request (magic 0x5047574b)" \
    guest "grep -q 'rcvd \[LCP ConfReq id=0x1 <magic 0x5047574b>\]' $guest_server_log"
  wait_until 20 "guest -> host: GRE carrying pppd's LCP Configure-Ack for it" \
    bash -c "test \"\$(tshark -n -r '$artifacts/$case_name.pcap' -Y 'ip.src == $vm_guest_ip && gre && lcp && ppp.code == 2' 2>/dev/null | wc -l)\" -gt 0"
  check_within 10 "pppd's log shows the exchange" guest "grep -E 'LCP Conf(Req|Ack)' $guest_server_log | head -4"
  check "host raw GRE socket received pptpd's packets" test -s "$artifacts/$case_name.gre-received.bin"
  host_stop control
}
