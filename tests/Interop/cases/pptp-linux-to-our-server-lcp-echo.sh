# LCP keep-alive and teardown with pptp-linux + pppd dialling our server (ours: echo every 2 s, 3 failures).
#  1. pppd (lcp-echo-interval 1, lcp-echo-failure 3) keeps the link up for > 5 s: both ends' echoes answered.
#  2. our gateway gets SIGTERM: pptp-linux sees the call cleared / control connection stopped, pppd exits.
#  3. a new session; pppd is killed with SIGKILL in the guest: ours closes the session within its echo
#     timeout (2 s x 3), whichever way it learns it (pptp's Call-Clear or missing echo replies).
case_description="pptp-linux -> our server: LCP echo both ways for > 5 s; SIGTERM ours -> clean stop; kill -9 pppd -> ours closes"
case_table="pptp-linux · dials our server|MS-CHAPv2|MPPE-128 stateless|LCP echo answered; SIGTERM / kill -9 handled"
source "$repo/tests/Interop/our-gateway.sh"
peer_extra="lcp-echo-interval 1 lcp-echo-failure 3"
our_lcp_echo_interval=2
our_lcp_echo_failures=3

run_case() {
  our_server_session_up
  step "holding the link for 6 s"
  sleep 6
  check "pppd still up after 6 s (ppp0 has $peer_address)" guest "ip -4 addr show dev ppp0 | grep -q 'inet $peer_address'"
  check_echo_both_ways 5 2
  check "ping pppd -> ours" guest "ping -c 2 -i 0.3 -W 3 $our_address"

  step "SIGTERM to our gateway"
  our_gateway_signal_and_wait TERM 15
  wait_until 20 "pptp-linux's pppd exited" guest "! pgrep -x pppd"
  check_within 10 "pppd logged the hang-up" guest "grep -E 'Modem hangup|Connection terminated' $peer_log"
  check_within 10 "pptp-linux logged the call cleared / control connection stopped by ours" \
    guest "grep -iE 'pptp.*(clear|stop|disconnect|clos)' /var/log/messages"
  check_within 10 "our log: the session was closed on shutdown" grep -E 'session closed' "$(host_log gateway)"

  step "second session, then kill -9 pppd"
  our_server_session_up
  local t0
  t0=$(now_ms)
  guest "pkill -KILL -x pppd"
  wait_our_log 12 "session closed after pppd was killed" "session closed: .*"
  local ms=$(( $(now_ms) - t0 ))
  step "ours noticed after $ms ms"
  # 2 s x (3 + 1) at most, plus the guest command channel's latency under TCG on a loaded machine.
  check "ours noticed within the echo timeout (<= 12 s)" test "$ms" -le 12000
}
