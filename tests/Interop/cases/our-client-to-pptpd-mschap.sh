# Our client dials pptpd whose pppd requires MS-CHAPv1 (require-mschap).
# MS-CHAPv1 derives MPPE keys too (RFC 3079 section 2), so MPPE-128 stays required.
case_description="our client -> pptpd: MS-CHAPv1 + MPPE-128 stateless, ping both ways, TCP with SHA-256"
case_table="pptpd · our client dials|MS-CHAPv1|MPPE-128 stateless|up, traffic both ways"
source "$repo/tests/Interop/our-gateway.sh"
peer_auth=mschap
peer_mppe=128
our_auth=mschap
our_mppe_required=true

run_case() {
  our_client_session_up
  check_within 10 "pptpd's pppd: peer authorized" guest "grep -E 'peer from calling number $vm_host_ip authorized' $peer_log"
  check_peer_mppe 128
  check_our_encryption "MPPE-128 stateless"
  check_tunnel_traffic mppe
}
