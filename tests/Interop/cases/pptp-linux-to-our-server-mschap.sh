# pptp-linux + pppd (only MS-CHAPv1 allowed) dial our server, which requires MS-CHAPv1.
# MS-CHAPv1 derives MPPE keys too (RFC 3079 section 2), so MPPE-128 stays required.
case_description="pptp-linux -> our server: MS-CHAPv1 + MPPE-128 stateless, ping both ways, TCP with SHA-256"
case_table="pptp-linux · dials our server|MS-CHAPv1|MPPE-128 stateless|up, traffic both ways"
source "$repo/tests/Interop/our-gateway.sh"
peer_auth=mschap
peer_mppe=128
our_auth=mschap
our_mppe_required=true

run_case() {
  our_server_session_up
  check_within 10 "pptp-linux's pppd: authentication succeeded" guest "grep -E '(CHAP|PAP) authentication succeeded' $peer_log"
  check_peer_mppe 128
  check_our_encryption "MPPE-128 stateless"
  check_tunnel_traffic mppe
}
