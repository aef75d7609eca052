# Our client dials pptpd whose pppd requires stateful MPPE-128 (require-mppe-128 mppe-stateful). pppd asks
# for stateless first; ours allows stateful only (allowStateless false), so its Nak moves pppd to stateful.
case_description="our client -> pptpd: MS-CHAPv2 + MPPE-128 stateful, ping both ways, TCP with SHA-256"
case_table="pptpd · our client dials|MS-CHAPv2|MPPE-128 stateful|up, traffic both ways"
source "$repo/tests/Interop/our-gateway.sh"
peer_mppe=stateful
our_mppe_stateful=true
our_mppe_stateless=false

run_case() {
  our_client_session_up
  check_peer_mppe stateful
  check_our_encryption "MPPE-128 stateful"
  check_tunnel_traffic mppe
}
