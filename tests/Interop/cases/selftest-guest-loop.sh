# pptpd and pptp-linux, both inside the guest: proves the VM, its kernel modules and the peer helpers work,
# with no part of pptp-gateway involved. The client runs in the guest namespace "pptpc" behind a veth, so
# traffic between 10.0.0.2 (client ppp1) and 10.0.0.1 (server ppp0) really crosses the tunnel.
case_description="pptpd <-> pptp-linux inside the guest: MS-CHAPv2 + MPPE-128, ping both ways, TCP with SHA-256"
case_capture=guest

run_case() {
  require "pptpd started (MS-CHAPv2 required, MPPE-128 required)" \
    guest_pptpd_start --localip 10.0.0.1 --remoteip 10.0.0.2-9 --auth mschap-v2 --mppe 128
  require "client namespace pptpc behind a veth" guest_client_netns_setup
  guest_capture_start pgw-v0

  local t0=$(now_ms)
  require "pptp-linux client started" \
    guest_pptp_client_start --server 198.51.100.1 --netns pptpc --unit 1 --auth mschap-v2 --mppe 128
  require "client ppp1 up" guest_wait_ppp_up --netns pptpc ppp1 60
  step "link up $(( $(now_ms) - t0 )) ms after pppd started"
  require "server ppp0 up" guest_wait_ppp_up ppp0 20

  check_within 10 "server: MS-CHAPv2 peer authenticated" \
    guest "grep -E 'peer from calling number .* authorized' $guest_server_log"
  check_within 10 "client: CHAP (MS-CHAPv2) authentication succeeded" \
    guest "grep 'CHAP authentication succeeded' $guest_client_log"
  check_within 10 "server: MPPE 128-bit stateless" \
    guest "grep 'MPPE 128-bit stateless compression enabled' $guest_server_log"
  check_within 10 "client: MPPE 128-bit stateless" \
    guest "grep 'MPPE 128-bit stateless compression enabled' $guest_client_log"
  check "ping client -> server through the tunnel (10.0.0.2 -> 10.0.0.1)" \
    guest "ip netns exec pptpc ping -c 3 -i 0.3 -W 3 10.0.0.1"
  check "ping server -> client through the tunnel (10.0.0.1 -> 10.0.0.2)" \
    guest "ping -c 3 -i 0.3 -W 3 10.0.0.2"
  check "TCP client -> server through the tunnel, 256 KiB, SHA-256 equal" \
    tcp_transfer_check guest:pptpc guest 10.0.0.1 5001 262144
  check "TCP server -> client through the tunnel, 256 KiB, SHA-256 equal" \
    tcp_transfer_check guest guest:pptpc 10.0.0.2 5002 262144
  check "the tunnel carried the traffic (ppp1 counters)" \
    guest "ip netns exec pptpc ip -s link show ppp1 | awk '/RX:/{getline; rx=\$1} /TX:/{getline; tx=\$1} END{print \"ppp1 rx\", rx, \"bytes, tx\", tx, \"bytes\"; exit !(rx > 262144 && tx > 262144)}'"

  # What crossed the veth must be GRE carrying MPPE (PPP protocol 0x00FD), not plain IP.
  guest_capture_stop_and_fetch "$artifacts/$case_name.pcap"
  check_within 15 "capture: PPTP control messages on TCP 1723" \
    pcap_at_least "$artifacts/$case_name.pcap" 'pptp' 1
  check "capture: GRE frames carrying MPPE-compressed data (ppp.protocol == 0x00fd)" \
    bash -c "n=\$(tshark -n -r '$artifacts/$case_name.pcap' -Y 'gre && ppp.protocol == 0x00fd' 2>/dev/null | wc -l); echo \"\$n MPPE frames\"; ((n > 100))"
  check "capture: no clear IP between 10.0.0.x on the veth" \
    test "$(pcap_count "$artifacts/$case_name.pcap" 'ip.src == 10.0.0.0/24 && !gre')" -eq 0
}
