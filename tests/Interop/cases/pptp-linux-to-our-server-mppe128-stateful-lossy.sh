# pptp-linux + pppd dial our server with stateful MPPE-128 over a link that loses 2 % and reorders 5 % of
# packets both ways (netem in the guest). Stateful MPPE loses sync on every lost packet; each end asks the
# other for a flushed packet with a Reset-Request. Linux answers with a key change on its next packet; when that
# answer is lost (or arrives after a gap) the receiver resynchronises one key short and never notices: a black
# hole, every later frame garbage. Ours answers with flag packets (a key change every receiver accounts for,
# lost or not), finds the key a Linux sender moved on to (key search), and would hold its key if pppd's
# Protocol-Rejects showed garbage. 512 KiB must cross each way intact while the link stays up.
# Towards Linux it is slow by nature: a Linux receiver that lost a packet drops everything until a flushed one,
# TCP's whole window goes with it and the sender waits out its retransmission timeout, which doubles when the
# retransmission meets a Reset-Request lost on the way (pppd repeats it only after a second, on a later error).
# One run under load moved 870 kB host -> guest in 115 s, so each end waits up to 300 s here. On 2026-12-02 a
# run did not move 1 MiB guest -> host in 300 s: the capture shows each resync working (pppd's ResetAck, then
# its flushed packet, then the next loss a few packets later) and the guest's TCP backing off between them;
# 512 KiB keeps what is tested (resyncs both ways, no black hole, intact data) inside the time.
case_description="pptp-linux -> our server: MPPE-128 stateful through 2% loss + 5% reordering both ways, 512 KiB TCP each way (SHA-256)"
case_table="pptp-linux · dials our server, 2 % loss + 5 % reordering|MS-CHAPv2|MPPE-128 stateful|512 KiB TCP each way intact; resyncs counted; no black hole"
transfer_timeout=300
case_timeout=720
source "$repo/tests/Interop/our-gateway.sh"
peer_mppe=stateful
our_mppe_stateful=true
our_mppe_stateless=false
impairment="delay 10ms reorder 5% loss 2%"

mppe_sync() { # key: one counter of the session's mppeSync (or drops) in our status
  "$PPTP_GATEWAY" status --json | python3 -c '
import json, sys
status = json.load(sys.stdin)
sessions = status.get("status", status).get("sessions", [])
session = sessions[0] if sessions else {}
print(session.get("mppeSync", {}).get(sys.argv[1], session.get("drops", {}).get(sys.argv[1], -1)))' "$1"
}

mppe_sync_line() {
  local key line=""
  for key in resetRequestsSent resetRequestsReceived keySearchRecoveries keyHolds garbageRejectsReceived mppeUndecryptable mppePacketLoss mppeAwaitingFlush; do
    line+="$key $(mppe_sync "$key")  "
  done
  echo "$line"
}

run_case() {
  our_server_session_up
  check_peer_mppe stateful
  check_our_encryption "MPPE-128 stateful"
  require "guest eth0: netem $impairment, both directions" guest_impair_link "$impairment"
  # Our counters every 10 s, for the log: how the resynchronisation went while the data crossed.
  (while sleep 10; do echo "$(date +%T) $(mppe_sync_line)"; done) >"$artifacts/$case_name.mppe-sync.log" 2>&1 &
  local sampler=$!
  check "TCP guest -> host through the lossy link, 512 KiB, SHA-256 equal" \
    tcp_transfer_check guest host "$our_address" 5001 524288
  check "TCP host -> guest through the lossy link, 512 KiB, SHA-256 equal" \
    tcp_transfer_check host guest "$peer_address" 5002 524288
  check "our session is still up" bash -c "'$PPTP_GATEWAY' status --json | grep -q '\"state\": *\"up\"'"
  # Through this link a lost echo or reply costs a resync (pppd repeats a Reset-Request only after a second, on a
  # later error), so three pings 0.3 s apart can all go unanswered on a healthy tunnel (CI, 2026-12-03, after both
  # transfers had passed): ping until one is answered, for 30 s; a black hole answers none.
  check_within 30 "ping guest -> ours still answered" guest "ping -c 1 -W 2 $our_address"
  kill "$sampler" 2>/dev/null || true
  sed 's/^/      | /' "$artifacts/$case_name.mppe-sync.log"
  step "our MPPE sync: $(mppe_sync_line)"
  check "the loss was there and was resynchronised (Reset-Requests both ways)" \
    test "$(mppe_sync resetRequestsSent)" -ge 1 -a "$(mppe_sync resetRequestsReceived)" -ge 1
}
