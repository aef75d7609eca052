# Our client dials pptpd whose pppd requires PAP (require-pap).
# PAP gives no MPPE keys: pppd runs nomppe and ours has mppe.required false; the data goes in clear.
case_description="our client -> pptpd: PAP, no MPPE, ping both ways, TCP with SHA-256"
case_table="pptpd · our client dials|PAP|off|up, traffic both ways"
source "$repo/tests/Interop/our-gateway.sh"
peer_auth=pap
peer_mppe=none
our_auth=pap
our_mppe_required=false

run_case() {
  our_client_session_up
  check_within 10 "pptpd's pppd: peer authorized" guest "grep -E 'peer from calling number $vm_host_ip authorized' $peer_log"
  check_peer_mppe none
  check_our_encryption "off"
  check_tunnel_traffic clear
}
