# Policy mismatch: pptpd's pppd requires CHAP-MD5 and MPPE-128; ours authenticates with CHAP-MD5, which
# gives no MPPE keys, so ours cannot offer MPPE (mppe.required false). pppd gives up after authentication
# ("MPPE required but not available") and terminates LCP: a clean failure, no hang.
case_description="our client -> pptpd: pppd requires MPPE, ours has no keys (CHAP-MD5): clean failure, reason logged"
case_table="pptpd · our client dials|CHAP-MD5|pppd requires MPPE-128, ours cannot|clean failure, reason in log + status"
source "$repo/tests/Interop/our-gateway.sh"
peer_auth=chap
peer_mppe=128
our_auth=chap
our_mppe_required=false
our_redial_delay=300

run_case() {
  require "pptpd started (CHAP-MD5, MPPE-128 required)" \
    guest_pptpd_start --auth chap --mppe 128 --user "$interop_user" --password "$interop_password"
  our_client_config "$artifacts/$case_name.config.json" "$vm_guest_ip" "$interop_user" "$interop_password"
  our_gateway_start "$artifacts/$case_name.config.json"
  check_client_clean_failure "pppd ended the link" "peer closed the link: MPPE required but not available"
  check_within 10 "pptpd's pppd logged why" guest "grep -iE 'MPPE required' $guest_server_log"
}
