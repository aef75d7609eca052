# Three pptp-linux tunnels from one guest to our server. pptp-linux runs one call manager per server address
# and puts every tunnel to that server on its one control connection (RFC 2637 allows many calls on one),
# so our server must carry three calls on one TCP connection: each its own session with its own address,
# the Call-Clear of one leaving the others up, and the loss of the control connection ending all of them.
case_description="pptp-linux, 3 tunnels on one control connection -> our server: 3 sessions up, one cleared alone, the rest end with the TCP connection"
case_table="pptp-linux · 3 tunnels from one guest (one shared control connection)|MS-CHAPv2|MPPE-128 stateless|3 calls on 1 TCP connection, each pinged both ways; a Call-Clear ends only its call; TCP loss ends all"
source "$repo/tests/Interop/our-gateway.sh"
our_user_max_sessions=3  # one account, three tunnels

# What our status says: "up" sessions, and the TCP 1723 connections open.
our_up_sessions() {
  our_status --json | python3 -c '
import json, sys
status = json.load(sys.stdin)
status = status.get("status", status)
print(sum(1 for s in status.get("sessions", []) if s.get("role") == "server" and s.get("state") == "up"))'
}
our_control_connections() {
  our_status --json | python3 -c '
import json, sys
status = json.load(sys.stdin)
print(status.get("status", status).get("counters", {}).get("controlConnections", -1))'
}
up_sessions_are() { test "$(our_up_sessions)" = "$1"; }
control_connections_are() { test "$(our_control_connections)" = "$1"; }
# TCP connections to our port 1723 that the host's kernel has established.
host_tcp_1723_connections_are() { test "$(ss -Htn state established '( sport = :1723 )' | wc -l)" = "$1"; }

guest_dial_unit() { # unit: one more pppd + pptp in the guest, interface ppp<unit>, sharing the call manager
  guest_pptp_client_start --server "$vm_host_ip" --unit "$1" --linkname "pgw-client$1" --auth "$peer_auth" \
    --mppe "$peer_mppe" --user "$interop_user" --password "$interop_password"
}

guest_ping_through() { # iface: ping our end of the tunnel out of that interface
  guest "ping -c 2 -i 0.3 -W 3 -I $1 $our_address"
}

run_case() {
  our_server_session_up
  local addresses=("$peer_address") unit
  for unit in 1 2; do
    require "second pptp-linux tunnel (ppp$unit) started" guest_dial_unit "$unit"
    addresses+=("$(guest_wait_ppp_up "ppp$unit" 60 | cut -d' ' -f1 | cut -d/ -f1)") || fail "ppp$unit did not come up"
    step "guest ppp$unit up with ${addresses[-1]}"
    # pppd routes our end (10.0.1.1) through the first tunnel only; replies from this tunnel's address must
    # leave through this tunnel (our server drops a packet whose source is another tunnel's: spoofing). The rule
    # outlives the case harmlessly: its table empties when ppp$unit goes.
    require "guest: replies from ${addresses[-1]} leave through ppp$unit" \
      guest "ip route add $our_address dev ppp$unit table 10$unit && ip rule add from ${addresses[-1]} table 10$unit"
  done
  check "three different addresses: ${addresses[*]}" \
    test "$(printf '%s\n' "${addresses[@]}" | sort -u | grep -c .)" = 3
  check_within 15 "our status: 3 server sessions up" up_sessions_are 3
  check "our status: all three on 1 control connection" control_connections_are 1
  check "the host has 1 TCP connection on port 1723" host_tcp_1723_connections_are 1
  check "the guest has 1 TCP connection to port 1723 (pptp-linux's call manager)" \
    guest "test \$(ss -Htn state established '( dport = :1723 )' | wc -l) = 1"
  local i
  for i in 0 1 2; do
    check "ping guest ppp$i -> ours" guest_ping_through "ppp$i"
    check "ping ours -> ${addresses[$i]} (ppp$i)" ping -c 2 -i 0.3 -W 3 "${addresses[$i]}"
  done

  # One tunnel ends (its pppd is stopped: LCP Terminate, then pptp-linux's Call-Clear-Request): only its call goes.
  check "guest: the second pppd stopped" guest 'kill $(cat /tmp/pgw-pgw-client1.pid)'
  check_within 20 "our status: 2 sessions up after one call was cleared" up_sessions_are 2
  check "our status: still 1 control connection" control_connections_are 1
  check "ping ours -> ${addresses[0]} (ppp0) still answered" ping -c 2 -i 0.3 -W 3 "${addresses[0]}"
  check "ping ours -> ${addresses[2]} (ppp2) still answered" ping -c 2 -i 0.3 -W 3 "${addresses[2]}"
  check "ping ours -> ${addresses[1]} (the cleared one) is not answered" bash -c "! ping -c 1 -W 2 ${addresses[1]}"

  # The control connection is lost (the call manager killed: the guest's kernel closes its TCP connection):
  # every call on it ends, with that reason.
  check "guest: pptp-linux's call manager killed" guest \
    'kill -9 $(ss -Htnp state established "( dport = :1723 )" | grep -o "pid=[0-9]*" | cut -d= -f2 | sort -u)'
  check_within 30 "our status: no session up once the control connection is gone" up_sessions_are 0
  check_within 10 "our status: no control connection" control_connections_are 0
  wait_our_log 10 "our log: both remaining sessions closed with the control connection" \
    "session closed.*control connection closed"
  check "our log: two sessions closed with the control connection" \
    test "$(grep -c 'session closed.*control connection closed' "$(host_log gateway)")" -ge 2
  check "our server is still running" bash -c "kill -0 $(our_gateway_pid)"
}
