# PENDING (not run by default; run with: PPTP_GATEWAY=... scripts/interop pptp-linux-to-our-server):
# Debian's pptp-linux + pppd in the guest dial our gateway's SERVER on the host.
#   guest 192.0.2.2: pppd pty "pptp 192.0.2.1 --nolaunchpppd" (MS-CHAPv2, MPPE-128 required)  --TCP 1723 + GRE-->
#   host (namespace pgw-interop) 192.0.2.1: pptp-gateway run --config <server config>; tunnel 10.0.1.1 <-> pool
case_description="pptp-linux (guest) -> our server (host): MS-CHAPv2 + MPPE-128, ping both ways, TCP with SHA-256"
case_table="pptp-linux · dials our server|MS-CHAPv2|MPPE-128 stateless|up, traffic both ways (1 MiB TCP), clean hang-up"
case_generations="bookworm trixie"
source "$repo/tests/Interop/our-gateway.sh"

run_case() {
  local config="$artifacts/$case_name.config.json"
  our_server_config "$config" "$vm_host_ip" 10.0.1.1 10.0.1.10-10.0.1.20 interop 'interop-secret'
  our_gateway_start "$config"
  wait_until 30 "our server listens on $vm_host_ip:1723" host_listening_on 1723

  local t0 client_address
  t0=$(now_ms)
  require "pptp-linux client started against $vm_host_ip" \
    guest_pptp_client_start --server "$vm_host_ip" --auth mschap-v2 --mppe 128 \
      --user interop --password 'interop-secret'
  client_address=$(guest_wait_ppp_up ppp0 60 | cut -d' ' -f1) || fail "the guest's ppp0 did not come up"
  step "guest ppp0 up with $client_address $(( $(now_ms) - t0 )) ms after pppd started"

  check "guest address from our pool (10.0.1.10-20)" \
    bash -c "[[ '$client_address' =~ ^10\.0\.1\.([0-9]+)$ ]] && ((BASH_REMATCH[1] >= 10 && BASH_REMATCH[1] <= 20))"
  check_within 10 "pptp-linux's pppd: CHAP (MS-CHAPv2) authentication succeeded" \
    guest "grep 'CHAP authentication succeeded' $guest_client_log"
  check_within 10 "pptp-linux's pppd: MPPE 128-bit stateless compression enabled" \
    guest "grep 'MPPE 128-bit stateless compression enabled' $guest_client_log"
  check "ping guest -> our server (10.0.1.1)" guest "ping -c 3 -i 0.3 -W 3 10.0.1.1"
  check "ping host -> guest ($client_address)" ping -c 3 -i 0.3 -W 3 "$client_address"
  check "TCP guest -> host through the tunnel, 1 MiB, SHA-256 equal" \
    tcp_transfer_check guest host 10.0.1.1 5001 1048576
  check "TCP host -> guest through the tunnel, 1 MiB, SHA-256 equal" \
    tcp_transfer_check host guest "$client_address" 5002 1048576
  check_within 15 "capture: the data went as MPPE in GRE (ppp.protocol == 0x00fd)" \
    pcap_at_least "$artifacts/$case_name.pcap" 'gre && ppp.protocol == 0x00fd' 101
  check "capture: no clear 10.0.1.x IP on the tap" \
    test "$(pcap_count "$artifacts/$case_name.pcap" 'ip.src == 10.0.1.0/24 && !gre')" -eq 0
  check "pptp-gateway status answers while a session is up" "$PPTP_GATEWAY" status

  # A clean hang-up from the client: pppd terminates LCP, pptp sends Call-Clear-Request.
  guest "pkill -x pppd" || true
  wait_until 20 "guest pppd exited" guest "! pgrep -x pppd"
  check_within 10 "guest pppd logged a normal termination" guest "grep -E 'Connection terminated|Exit' $guest_client_log"
}
