# pptp-linux + pppd (require-mppe-40) dial our server (keyLengths [40]).
case_description="pptp-linux -> our server: MS-CHAPv2 + MPPE-40 stateless, ping both ways, TCP with SHA-256"
case_table="pptp-linux · dials our server|MS-CHAPv2|MPPE-40 stateless|up, traffic both ways"
source "$repo/tests/Interop/our-gateway.sh"
peer_mppe=40
our_mppe_key_lengths=40

run_case() {
  our_server_session_up
  check_peer_mppe 40
  check_our_encryption "MPPE-40 stateless"
  check_tunnel_traffic mppe
}
