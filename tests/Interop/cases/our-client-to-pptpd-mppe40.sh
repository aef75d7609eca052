# Our client (keyLengths [40]) dials pptpd whose pppd requires 40-bit MPPE (require-mppe-40). Linux's
# ppp_mppe has no 56-bit keys, so 40 and 128 are the only lengths pppd can run.
case_description="our client -> pptpd: MS-CHAPv2 + MPPE-40 stateless, ping both ways, TCP with SHA-256"
case_table="pptpd · our client dials|MS-CHAPv2|MPPE-40 stateless|up, traffic both ways"
source "$repo/tests/Interop/our-gateway.sh"
peer_mppe=40
our_mppe_key_lengths=40

run_case() {
  our_client_session_up
  check_peer_mppe 40
  check_our_encryption "MPPE-40 stateless"
  check_tunnel_traffic mppe
}
