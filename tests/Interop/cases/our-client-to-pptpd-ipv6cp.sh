# pppd with +ipv6 offers IPv6CP; ours negotiates it (pppd logs its local and remote LL addresses) and carries
# IPv6: each end pings the other's link-local address through the tunnel, and IPv4 stays up beside it.
case_description="our client -> pptpd: pppd +ipv6: IPv6CP negotiated, IPv6 link-local pings both ways, IPv4 unharmed"
case_table="pptpd · our client dials|MS-CHAPv2|MPPE-128 stateless|pppd +ipv6: IPv6CP up, IPv6 pings both ways, IPv4 up"
source "$repo/tests/Interop/our-gateway.sh"
peer_extra="+ipv6"
transfer_bytes=0

run_case() {
  our_client_session_up
  wait_until 10 "pppd logged its IPv6 link-local addresses" guest "grep -qE 'remote LL address' $peer_log"
  check_within 10 "pppd's IPv6CP lines" guest "grep -E 'IPV6CP|IPv6 Control Protocol|LL address|ProtRej' $peer_log"
  check "pppd did not end the link over IPv6CP" guest "! grep -qE 'Connection terminated|Terminate' $peer_log"
  check_within 15 "capture: IPv6CP went over GRE" pcap_at_least "$artifacts/$case_name.pcap" 'gre && ppp.protocol == 0x8057' 1
  check_ipv6_both_ways ppp0
  check_tunnel_traffic mppe
}
