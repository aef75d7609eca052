# Policy mismatch: our server requires MPPE-128, pptp-linux's pppd runs nomppe (MS-CHAPv2) and
# Configure-Rejects our MPPE option. Ours closes the session with that reason; pppd exits.
case_description="pptp-linux -> our server: ours requires MPPE-128, pppd nomppe: clean failure, reason logged"
case_table="pptp-linux · dials our server|MS-CHAPv2|ours requires MPPE-128, pppd nomppe|clean failure, reason in log"
source "$repo/tests/Interop/our-gateway.sh"
peer_mppe=none

run_case() {
  our_server_start
  guest_client_dial
  check_server_clean_failure "peer refused MPPE" "peer refused MPPE \(CCP Configure-Reject\), encryption required"
  check_within 10 "pptp-linux's pppd: link terminated" guest "grep -E 'Connection terminated|Terminat' $guest_client_log"
}
