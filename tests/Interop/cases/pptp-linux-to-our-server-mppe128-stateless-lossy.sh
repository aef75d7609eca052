# pptp-linux + pppd dial our server with stateless MPPE-128 over a link that loses 2 % and reorders 5 % of
# packets both ways (netem in the guest: 5 % go at once, the rest 10 ms later, so a reordered packet overtakes
# the ones sent in the 10 ms before it). Stateless MPPE survives loss (each packet carries its key's count);
# what reordering costs is the GRE reorder buffer's: a fixed 100 ms gap timeout holds everything behind each
# real loss for 100 ms (TCP sees no duplicate acks meanwhile), so guest -> ours ran at less than half the speed
# of the other way. Ours learns how late the link's reordered packets come (about 10 ms here) and gives up on
# a gap after twice that; the reorder counters show the late packets it still delivered in order.
# 1 MiB must cross each way intact while the link stays up; the times and counters are logged.
case_description="pptp-linux -> our server: MPPE-128 stateless through 2% loss + 5% reordering both ways, 1 MiB TCP each way (SHA-256), reordered packets recovered"
case_table="pptp-linux · dials our server, 2 % loss + 5 % reordering|MS-CHAPv2|MPPE-128 stateless|1 MiB TCP each way intact; late packets recovered in order; adaptive gap timeout"
transfer_timeout=60
case_timeout=240
source "$repo/tests/Interop/our-gateway.sh"
peer_mppe=128
impairment="delay 10ms reorder 5% loss 2%"

run_case() {
  our_server_session_up
  check_peer_mppe 128
  check_our_encryption "MPPE-128 stateless"
  require "guest eth0: netem $impairment, both directions" guest_impair_link "$impairment"
  step "our reorder buffer before: $(our_reorder_line)"
  check "TCP guest -> host through the lossy link, 1 MiB, SHA-256 equal" \
    timed_transfer_check guest host "$our_address" 5001 1048576
  step "our reorder buffer after guest -> host: $(our_reorder_line)"
  check "TCP host -> guest through the lossy link, 1 MiB, SHA-256 equal" \
    timed_transfer_check host guest "$peer_address" 5002 1048576
  step "our reorder buffer after host -> guest: $(our_reorder_line)"
  step "our drops: $(for k in greLost greTooOld greDuplicate; do printf '%s %s  ' "$k" "$(our_session_counter drops "$k")"; done)"
  check "our session is still up" bash -c "'$PPTP_GATEWAY' status --json | grep -q '\"state\": *\"up\"'"
  # Netem reordered about 5 % of ~750 data packets towards us: some came after a later one and were
  # delivered in order all the same, and the gap timeout followed the link below the old fixed 100 ms.
  check "our reorder buffer recovered reordered packets (recovered >= 1)" \
    test "$(our_session_counter reorder recovered)" -ge 1
  check "our gap timeout adapted to the link (below the old fixed 100 ms)" our_gap_timeout_below 100
}
