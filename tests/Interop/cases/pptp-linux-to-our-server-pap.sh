# pptp-linux + pppd (only PAP allowed) dial our server, which requires PAP.
# PAP gives no MPPE keys: pppd runs nomppe and ours has mppe.required false; the data goes in clear.
case_description="pptp-linux -> our server: PAP, no MPPE, ping both ways, TCP with SHA-256"
case_table="pptp-linux · dials our server|PAP|off|up, traffic both ways"
source "$repo/tests/Interop/our-gateway.sh"
peer_auth=pap
peer_mppe=none
our_auth=pap
our_mppe_required=false

run_case() {
  our_server_session_up
  check_within 10 "pptp-linux's pppd: authentication succeeded" guest "grep -E '(CHAP|PAP) authentication succeeded' $peer_log"
  check_peer_mppe none
  check_our_encryption "off"
  check_tunnel_traffic clear
}
