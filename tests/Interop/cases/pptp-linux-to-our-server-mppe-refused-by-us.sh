# Policy mismatch: pptp-linux's pppd uses CHAP-MD5 and requires MPPE-128; our server authenticates with
# CHAP-MD5, which gives no MPPE keys (mppe.required false). pppd cannot get MPPE and ends the link.
case_description="pptp-linux -> our server: pppd requires MPPE, ours has no keys (CHAP-MD5): clean failure, reason logged"
case_table="pptp-linux · dials our server|CHAP-MD5|pppd requires MPPE-128, ours cannot|clean failure, reason in log"
source "$repo/tests/Interop/our-gateway.sh"
peer_auth=chap
peer_mppe=128
our_auth=chap
our_mppe_required=false

run_case() {
  our_server_start
  guest_client_dial
  check_server_clean_failure "pppd ended the link" "peer closed the link: MPPE required but not available"
  check_within 10 "pptp-linux's pppd logged why" guest "grep -iE 'MPPE required' $guest_client_log"
}
