# pptp-linux + pppd asking for a smaller MRU (1300) dial our server: our side must send nothing larger, and the
# kernel on our side must know the tunnel's MTU (1300 less MPPE's 4 bytes = 1296) through the route to that
# peer, so a DF packet that does not fit is refused with the MTU (TCP finds the path MTU) instead of vanishing.
case_description="pptp-linux (mru 1300) -> our server: route MTU 1296, DF 1296 passes, DF 1297 refused with mtu=1296, no GRE frame above the MRU"
case_table="pptp-linux · dials our server, mru 1300|MS-CHAPv2|MPPE-128 stateless|route MTU 1296; DF above it refused, not lost; nothing sent above the MRU"
source "$repo/tests/Interop/our-gateway.sh"
peer_extra="mru 1300"

df_ping() { # size address: one DF ping from the host (our side)
  ping -n -c 1 -W 3 -M do -s "$1" "$2"
}

df_ping_refused_with_mtu() { # size address mtu
  local output
  if output=$(df_ping "$1" "$2" 2>&1); then
    echo "$output"; echo "a DF ping of $1 bytes went through"; return 1
  fi
  echo "$output"
  grep -q "mtu=$3" <<<"$output"
}

run_case() {
  our_server_session_up
  check "pptp-linux's pppd asked for MRU 1300" guest "grep -E 'mru 1300' $peer_log"
  check_within 10 "our status: the session's MTU is 1296" \
    bash -c "'$PPTP_GATEWAY' status --json | grep -q '\"mtu\": *1296'"
  check_within 10 "our route to $peer_address carries mtu 1296" bash -c "ip route get $peer_address | grep -q 'mtu 1296'"
  # 1268 + 28 (IPv4 + ICMP headers) = 1296.
  check "DF ping of 1296 bytes host -> guest passes" df_ping 1268 "$peer_address"
  check "DF ping of 1297 bytes host -> guest is refused by our kernel with mtu=1296" \
    df_ping_refused_with_mtu 1269 "$peer_address" 1296
  check "TCP host -> guest through the tunnel, 1 MiB, SHA-256 equal" \
    tcp_transfer_check host guest "$peer_address" 5002 1048576
  # The 1 MiB went in full-sized frames (1296-byte packets: 1300 of PPP information, 1304 of GRE payload with
  # the address/control and protocol fields), and not one frame from us was larger.
  check_within 15 "capture: our full-sized data frames reached the tap" \
    pcap_at_least "$artifacts/$case_name.pcap" "ip.src == $vm_host_ip && gre.key.payload_length >= 1290" 100
  check "capture: no GRE payload from us above 1304 bytes" \
    test "$(pcap_count "$artifacts/$case_name.pcap" "ip.src == $vm_host_ip && gre.key.payload_length > 1304")" -eq 0
}
