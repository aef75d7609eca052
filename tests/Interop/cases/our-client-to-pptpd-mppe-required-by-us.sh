# Policy mismatch: ours requires MPPE-128, pptpd's pppd runs nomppe (MS-CHAPv2) and Configure-Rejects our
# MPPE option. Ours gives up CCP, closes the link with that reason and does not hang.
case_description="our client -> pptpd: ours requires MPPE-128, pppd nomppe: clean failure, reason logged"
case_table="pptpd · our client dials|MS-CHAPv2|ours requires MPPE-128, pppd nomppe|clean failure, reason in log + status"
source "$repo/tests/Interop/our-gateway.sh"
peer_mppe=none
our_redial_delay=300

run_case() {
  require "pptpd started (MS-CHAPv2, nomppe)" \
    guest_pptpd_start --auth mschap-v2 --mppe none --user "$interop_user" --password "$interop_password"
  our_client_config "$artifacts/$case_name.config.json" "$vm_guest_ip" "$interop_user" "$interop_password"
  our_gateway_start "$artifacts/$case_name.config.json"
  check_client_clean_failure "peer refused MPPE" "peer refused MPPE \(CCP Configure-Reject\), encryption required"
  check_within 10 "pptpd's pppd: no MPPE, link terminated" guest "grep -E 'Connection terminated|Terminat' $guest_server_log"
}
