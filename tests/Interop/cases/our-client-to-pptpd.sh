# PENDING (not run by default; run with: PPTP_GATEWAY=... scripts/interop our-client-to-pptpd):
# our gateway's CLIENT on the host dials Debian's pptpd in the guest.
#   host (namespace pgw-interop) 192.0.2.1: pptp-gateway run --config <client config>  --TCP 1723 + GRE-->
#   guest 192.0.2.2: pptpd -> pppd (MS-CHAPv2 required, MPPE-128 required), tunnel 10.0.0.1 <-> 10.0.0.2
# Security settings come from our_auth / our_mppe_* (tests/Interop/our-gateway.sh) and the --auth/--mppe
# given to guest_pptpd_start below; copy this file to make variations.
case_description="our client (host) -> pptpd (guest): MS-CHAPv2 + MPPE-128, ping both ways, TCP with SHA-256"
case_table="pptpd · our client dials|MS-CHAPv2|MPPE-128 stateless|up, traffic both ways (1 MiB TCP), clean hang-up"
case_generations="bookworm trixie"
source "$repo/tests/Interop/our-gateway.sh"

run_case() {
  require "pptpd started (MS-CHAPv2, MPPE-128 required)" \
    guest_pptpd_start --localip 10.0.0.1 --remoteip 10.0.0.2-9 --auth mschap-v2 --mppe 128 \
      --user interop --password 'interop-secret'

  local config="$artifacts/$case_name.config.json" t0
  our_client_config "$config" "$vm_guest_ip" interop 'interop-secret'
  t0=$(now_ms)
  our_gateway_start "$config"
  wait_until 60 "our tunnel interface has a 10.0.0.x address" host_has_tunnel_address 10.0.0.
  step "tunnel up $(( $(now_ms) - t0 )) ms after start: $(host_tunnel_address 10.0.0.)"
  local host_address
  host_address=$(host_tunnel_address 10.0.0. | cut -d' ' -f2)

  check_within 10 "pptpd's pppd: MS-CHAPv2 peer authorized" \
    guest "grep -E 'peer from calling number $vm_host_ip authorized' $guest_server_log"
  check_within 10 "pptpd's pppd: MPPE 128-bit stateless compression enabled" \
    guest "grep 'MPPE 128-bit stateless compression enabled' $guest_server_log"
  check_within 10 "pptpd's pppd: IP up with our address $host_address" \
    guest "grep 'remote IP address $host_address' $guest_server_log"
  check "ping host -> guest through the tunnel (10.0.0.1)" ping -c 3 -i 0.3 -W 3 10.0.0.1
  check "ping guest -> host through the tunnel ($host_address)" guest "ping -c 3 -i 0.3 -W 3 $host_address"
  check "TCP host -> guest through the tunnel, 1 MiB, SHA-256 equal" \
    tcp_transfer_check host guest 10.0.0.1 5001 1048576
  check "TCP guest -> host through the tunnel, 1 MiB, SHA-256 equal" \
    tcp_transfer_check guest host "$host_address" 5002 1048576
  check_within 15 "capture: the data went as MPPE in GRE (ppp.protocol == 0x00fd)" \
    pcap_at_least "$artifacts/$case_name.pcap" 'gre && ppp.protocol == 0x00fd' 101
  check "capture: no clear 10.0.0.x IP on the tap" \
    test "$(pcap_count "$artifacts/$case_name.pcap" 'ip.src == 10.0.0.0/24 && !gre')" -eq 0

  # A clean stop: our client hangs up and pptpd's pppd sees the link go.
  host_stop gateway
  wait_until 20 "pptpd's pppd ended the call after our gateway stopped" \
    guest "grep -q 'Connection terminated' $guest_server_log"
  check "our tunnel interface is gone" bash -c "! ip -4 -o addr show | grep -q ' 10[.]0[.]0[.]'"
}
