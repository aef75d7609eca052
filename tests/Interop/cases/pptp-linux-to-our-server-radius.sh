# pptp-linux + pppd (MS-CHAPv2, MPPE-128) dial our server, which checks the login with Debian's FreeRADIUS
# (on the host, in the interop namespace) and not its own user: that one has another password. FreeRADIUS
# gives the address; the MPPE keys are the ones it sends (MS-MPPE-Send/Recv-Key), or pppd's traffic would not
# decrypt. Accounting: FreeRADIUS's detail file has the session's Start, and its Stop after the client hangs up.
case_description="pptp-linux -> our server checking logins with FreeRADIUS: MS-CHAPv2, MPPE-128 with RADIUS's keys, its Framed-IP, accounting Start/Stop"
case_table="pptp-linux · dials our server, RADIUS (FreeRADIUS)|MS-CHAPv2|MPPE-128 stateless|RADIUS keys and address, traffic both ways, accounting Start and Stop"
source "$repo/tests/Interop/our-gateway.sh"
source "$repo/tests/Interop/freeradius.sh"
peer_auth=mschap-v2
peer_mppe=128
our_server_password='not-what-the-peer-dials-with'

run_case() {
  radius_start "$interop_user	Cleartext-Password := \"$interop_password\"
	Framed-IP-Address = 10.0.1.17,
	Class = \"interop-branch\""
  our_server_radius_json=$(radius_config_json)
  our_server_session_up
  check "the guest has FreeRADIUS's Framed-IP-Address 10.0.1.17" test "$peer_address" = 10.0.1.17
  check_within 10 "our journal: accepted by RADIUS" grep -q "accepted by RADIUS 127.0.0.1:$radius_port" "$(host_log gateway)"
  check_within 10 "FreeRADIUS sent an Access-Accept with MPPE keys" grep -q "MS-MPPE-Send-Key" "$(host_log freeradius)"
  check_peer_mppe 128
  check_our_encryption "MPPE-128 stateless"
  check_tunnel_traffic mppe
  check_within 10 "FreeRADIUS accounting: Start with the user, the address and the Class" \
    radius_has_record Start "User-Name = \"$interop_user\"" "Framed-IP-Address = 10.0.1.17" "Class = 0x$(printf interop-branch | od -An -tx1 | tr -d ' \n')"

  guest "pkill -x pppd" || true
  wait_until 20 "guest pppd exited" guest "! pgrep -x pppd"
  check_within 15 "FreeRADIUS accounting: Stop, User-Request" radius_has_record Stop "Acct-Terminate-Cause = User-Request"
  check "FreeRADIUS accounting: the Stop counts the session's octets" \
    bash -c "awk '/Acct-Status-Type = Stop/ { stop = 1 } stop && /Acct-Input-Octets = [1-9]/ { found = 1 } END { exit !found }' '$(radius_detail)'"
}
