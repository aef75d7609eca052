# A full server says why (issue 15, item 5): our server has maxSessions 1, one pptp-linux tunnel is up, and a
# second pppd + pptp dials it on a control connection of its own. pptp-linux keeps one call manager, and so
# one control connection, per pair of local bind address and server (its socket /var/run/pptp/<bind>:<server>),
# so a second tunnel to the same server would only be a second call on the first connection. The second one
# here runs "pptp --localbind 192.0.2.3" from a second address on the guest's eth0: a call manager of its own,
# a new TCP connection from another source, a new Start-Control-Connection-Request. Our server must answer it
# with a Start-Control-Connection-Reply, result code 2 (general error) and error code 4 (no resource), before
# it closes, and log the refusal; pptp-linux must log the codes it got, and the first tunnel must stay up.
case_description="pptp-linux -> our server (maxSessions 1): a second control connection gets SCCRP result 2, error 4; the first tunnel stays up"
case_table="pptp-linux · dials our server twice, maxSessions 1|MS-CHAPv2|MPPE-128 stateless|second connection refused: SCCRP result 2 + error 4 on the wire and in pptp's log, reason in ours; first tunnel unharmed"
case_generations="bookworm trixie"
source "$repo/tests/Interop/our-gateway.sh"
our_max_sessions=1
second_address=192.0.2.3
second_log=/var/log/pppd-client2.log

run_case() {
  our_server_session_up
  check_within 10 "our status: one session up" bash -c "'$PPTP_GATEWAY' status | grep -q 'user $interop_user'"

  require "a second guest address $second_address on eth0" \
    guest "ip addr add $second_address/$vm_prefix dev eth0 && ping -c1 -W2 -I $second_address $vm_host_ip >/dev/null"
  require "second pptp-linux client started (pptp --localbind $second_address: a control connection of its own)" \
    guest_pptp_client_start --server "$vm_host_ip" --unit 1 --linkname pgw-client2 --logfile "$second_log" \
      --pptp-options "--localbind $second_address" --user "$interop_user" --password "$interop_password"

  wait_our_log 30 "refused the second connection: server is full" "refused .*$second_address.*server is full"
  # pptp-linux's call manager logs what the Start-Control-Connection-Reply said, to syslog (pptp_ctrl.c,
  # ctrlp_error): the result code with its text, the error code, and the general error's name.
  check_within 20 "pptp-linux logged the refusal: result code 2, error code 4" \
    guest "grep -iE 'result code is 2 .*error code is 4' /var/log/messages"
  check_within 10 "pptp-linux named the error: no resource" guest "grep -iE 'No-Resource|no resource' /var/log/messages"
  check_within 15 "capture: our SCCRP to $second_address has result 2, error 4" \
    pcap_at_least "$artifacts/$case_name.pcap" \
      "ip.dst == $second_address && pptp.control_message_type == 2 && pptp.control_result == 2 && pptp.error == 4" 1
  # pptp retries with a new call manager (a new connection, refused the same way) and then gives up.
  check_within 30 "pptp-linux gave up on the second tunnel" guest "grep 'Could not launch call manager' /var/log/messages"
  wait_until 30 "the second pppd exited (no hang)" guest "! kill -0 \$(cat /tmp/pgw-pgw-client2.pid) 2>/dev/null"
  check "no ppp1 with an address in the guest" guest "! ip -4 addr show dev ppp1 2>/dev/null | grep -q inet"

  check "the first tunnel is still up: ping guest -> our server (10.0.1.1)" guest "ping -c 3 -i 0.3 -W 3 10.0.1.1"
  check "our status: still exactly one session" bash -c "[ \"\$('$PPTP_GATEWAY' status | grep -c 'user $interop_user')\" = 1 ]"
  check "the first pppd is still running" guest "kill -0 \$(cat /tmp/pgw-pgw-client.pid)"
}
