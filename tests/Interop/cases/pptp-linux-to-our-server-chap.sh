# pptp-linux + pppd (only CHAP-MD5 allowed) dial our server, which requires CHAP-MD5.
# CHAP-MD5 gives no MPPE keys: pppd runs nomppe and ours has mppe.required false; the data goes in clear.
case_description="pptp-linux -> our server: CHAP-MD5, no MPPE, ping both ways, TCP with SHA-256"
case_table="pptp-linux · dials our server|CHAP-MD5|off|up, traffic both ways"
case_generations="bookworm trixie"
source "$repo/tests/Interop/our-gateway.sh"
peer_auth=chap
peer_mppe=none
our_auth=chap
our_mppe_required=false

run_case() {
  our_server_session_up
  check_within 10 "pptp-linux's pppd: authentication succeeded" guest "grep -E '(CHAP|PAP) authentication succeeded' $peer_log"
  check_peer_mppe none
  check_our_encryption "off"
  check_tunnel_traffic clear
}
