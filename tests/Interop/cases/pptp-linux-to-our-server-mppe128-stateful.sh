# pptp-linux + pppd (require-mppe-128 mppe-stateful) dial our server, which allows stateful only
# (allowStateless false): as the authoritative end it Naks pppd's stateless request to stateful.
case_description="pptp-linux -> our server: MS-CHAPv2 + MPPE-128 stateful, ping both ways, TCP with SHA-256"
case_table="pptp-linux · dials our server|MS-CHAPv2|MPPE-128 stateful|up, traffic both ways"
case_generations="bookworm trixie"
source "$repo/tests/Interop/our-gateway.sh"
peer_mppe=stateful
our_mppe_stateful=true
our_mppe_stateless=false

run_case() {
  our_server_session_up
  check_peer_mppe stateful
  check_our_encryption "MPPE-128 stateful"
  check_tunnel_traffic mppe
}
