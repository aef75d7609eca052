# Host-side helpers that configure and run Debian's real PPTP peers inside the interop VM: pptpd (server,
# it launches pppd per call) and pptp-linux (client, under pppd). They write every config file the peers
# read, so the image stays generic and a change here needs no image rebuild. Source after lib.sh.
#
#   guest_reset                         stop every peer, drop the client namespace, clear the logs
#   guest_pptpd_start [OPTIONS]         write /etc/pptpd.conf, /etc/ppp/pptpd-options, secrets; start pptpd
#   guest_client_netns_setup            namespace "pptpc" in the guest, joined to the root one by a veth:
#                                       198.51.100.1 (root, where pptpd listens) <-> 198.51.100.2 (pptpc)
#   guest_pptp_client_start [OPTIONS]   pppd pty "pptp SERVER --nolaunchpppd" ... nodetach, in the background
#   guest_wait_ppp_up [--netns NS] IFACE TIMEOUT   until IFACE has an IPv4 address (prints it)
#   guest_peer_logs                     the server and client pppd logs and syslog, labelled
#
# OPTIONS shared by server and client:
#   --auth mschap-v2|mschap|chap|pap    the one method required (server) / allowed (client); default mschap-v2
#   --mppe 128|40|stateful|any|none|optional
#                                       128: require-mppe-128 (stateless); 40: require-mppe-40;
#                                       stateful: require-mppe-128 + mppe-stateful; any: require-mppe;
#                                       none: nomppe; optional: no MPPE option (pppd's default); default 128
#   --user NAME --password SECRET       default user / password
#   --extra "PPPD OPTIONS"              appended to the pppd options (one line; e.g. "noipv6 mtu 1400")
# Server only: --localip A --remoteip RANGE (pptpd.conf; default 10.0.0.1 / 10.0.0.2-9)
# Client only: --server IP (default 192.0.2.1, the host), --netns NS (run in that guest namespace),
#              --unit N (pppd unit: pppN), --linkname NAME (default pgw-client),
#              --pptp-options "OPTIONS" (more pptp words, e.g. "--localbind 192.0.2.3"),
#              --logfile FILE (pppd's log; default /var/log/pppd-client.log)

guest_server_log=/var/log/pppd-server.log
guest_client_log=/var/log/pppd-client.log

guest() { "$vm_scripts/guest" "$@"; }

# pppd options for the authenticator side of one auth method.
pppd_server_auth_options() { # method
  case "$1" in
    mschap-v2) echo "refuse-pap refuse-chap refuse-mschap refuse-eap require-mschap-v2" ;;
    mschap) echo "refuse-pap refuse-chap refuse-mschap-v2 refuse-eap require-mschap" ;;
    chap) echo "refuse-pap refuse-mschap refuse-mschap-v2 refuse-eap require-chap" ;;
    pap) echo "refuse-chap refuse-mschap refuse-mschap-v2 refuse-eap require-pap" ;;
    *) die "unknown --auth $1 (mschap-v2, mschap, chap, pap)" ;;
  esac
}

# pppd options for the peer (the side that authenticates itself): refuse everything else.
pppd_client_auth_options() { # method
  case "$1" in
    mschap-v2) echo "refuse-pap refuse-chap refuse-mschap refuse-eap" ;;
    mschap) echo "refuse-pap refuse-chap refuse-mschap-v2 refuse-eap" ;;
    chap) echo "refuse-pap refuse-mschap refuse-mschap-v2 refuse-eap" ;;
    pap) echo "refuse-chap refuse-mschap refuse-mschap-v2 refuse-eap" ;;
    *) die "unknown --auth $1 (mschap-v2, mschap, chap, pap)" ;;
  esac
}

pppd_mppe_options() { # variant
  case "$1" in
    128) echo "require-mppe-128" ;;
    40) echo "require-mppe-40" ;;
    stateful) echo "require-mppe-128 mppe-stateful" ;;
    any) echo "require-mppe" ;;
    none) echo "nomppe" ;;
    optional) echo "" ;;
    *) die "unknown --mppe $1 (128, 40, stateful, any, none, optional)" ;;
  esac
}

# The secrets line both peers read (client "user", server "pptpd", any address), as a guest shell word.
secrets_line_word() { # user password
  printf '%q' "$(printf '"%s" pptpd "%s" *' "$1" "$2")"
}

guest_reset() {
  guest - <<'GUEST' >/dev/null 2>&1 || true
peers='pppd|pptp|pptpd|pptpctrl|tcpdump|socat|nc'
pkill -x "$peers" && sleep 0.3
pkill -KILL -x "$peers"
ip netns del pptpc 2>/dev/null
ip link del pgw-v0 2>/dev/null
ip -4 addr flush dev eth0 secondary 2>/dev/null
tc qdisc del dev eth0 root 2>/dev/null
tc qdisc del dev eth0 ingress 2>/dev/null
ip link del ifb0 2>/dev/null
rm -f /var/log/pppd-*.log /run/pptpd.pid /run/ppp-*.pid /tmp/pgw-*
rm -rf /var/run/pptp
: >/var/log/messages
true
GUEST
}

# A lossy, reordering link between guest and host (netem on the guest's eth0: egress directly, ingress through
# ifb0), so both directions of a tunnel see it. guest_reset takes it away.
guest_impair_link() { # netem arguments, e.g. "delay 10ms reorder 5% loss 2%"
  guest - <<GUEST
set -e
modprobe -a sch_netem sch_ingress ifb act_mirred cls_matchall
ip link add ifb0 type ifb 2>/dev/null || true
ip link set ifb0 up
tc qdisc replace dev eth0 root netem $1
tc qdisc add dev eth0 handle ffff: ingress
tc filter add dev eth0 parent ffff: matchall action mirred egress redirect dev ifb0
tc qdisc replace dev ifb0 root netem $1
tc qdisc show dev eth0; tc qdisc show dev ifb0
GUEST
}

guest_pptpd_start() {
  local localip=10.0.0.1 remoteip=10.0.0.2-9 auth=mschap-v2 mppe=128 user=user password=password extra=""
  while (($#)); do
    case "$1" in
      --localip) localip=$2; shift 2 ;;
      --remoteip) remoteip=$2; shift 2 ;;
      --auth) auth=$2; shift 2 ;;
      --mppe) mppe=$2; shift 2 ;;
      --user) user=$2; shift 2 ;;
      --password) password=$2; shift 2 ;;
      --extra) extra=$2; shift 2 ;;
      *) die "guest_pptpd_start: unknown option $1" ;;
    esac
  done
  local options
  options=$(
    echo "# written by scripts/interop-vm/peers.sh (guest_pptpd_start)"
    echo "name pptpd"
    pppd_server_auth_options "$auth"
    pppd_mppe_options "$mppe"
    # Debian's defaults minus proxyarp (nothing to proxy for) and with a log file per role.
    echo "nodefaultroute nobsdcomp nodeflate novj novjccomp nologfd"
    echo "debug logfile $guest_server_log"
    [ -z "$extra" ] || echo "$extra"
  )
  guest - <<GUEST
set -e
cat >/etc/pptpd.conf <<'CONF'
# written by scripts/interop-vm/peers.sh; Debian's logwtmp is left out (no wtmp plugin needed here)
option /etc/ppp/pptpd-options
debug
localip $localip
remoteip $remoteip
CONF
cat >/etc/ppp/pptpd-options <<'CONF'
$options
CONF
umask 077
printf '%s\n' $(secrets_line_word "$user" "$password") >/etc/ppp/chap-secrets
cp /etc/ppp/chap-secrets /etc/ppp/pap-secrets
rm -f /run/pptpd.pid
pptpd -c /etc/pptpd.conf -o /etc/ppp/pptpd-options -p /run/pptpd.pid
for i in \$(seq 50); do
  grep -q ':06BB ' /proc/net/tcp && break
  sleep 0.1
done
grep -q ':06BB ' /proc/net/tcp || { echo "pptpd is not listening on 1723"; tail -20 /var/log/messages; exit 1; }
echo "pptpd listening on 1723 (pid \$(cat /run/pptpd.pid)); auth $auth, mppe $mppe, local $localip, remote $remoteip"
GUEST
}

guest_client_netns_setup() {
  guest - <<'GUEST'
set -e
ip netns add pptpc
ip link add pgw-v0 type veth peer name pgw-v1
ip link set pgw-v1 netns pptpc
ip addr add 198.51.100.1/24 dev pgw-v0
ip link set pgw-v0 up
ip -n pptpc addr add 198.51.100.2/24 dev pgw-v1
ip -n pptpc link set pgw-v1 up
ip -n pptpc link set lo up
for i in $(seq 30); do ip netns exec pptpc ping -c1 -W1 198.51.100.1 >/dev/null 2>&1 && break; sleep 0.2; done
echo "guest namespace pptpc: 198.51.100.2 on pgw-v1 <-> 198.51.100.1 on pgw-v0"
GUEST
}

guest_pptp_client_start() {
  local server=$vm_host_ip netns="" unit="" linkname=pgw-client auth=mschap-v2 mppe=128 user=user password=password extra=""
  local pptp_options="" logfile=$guest_client_log
  while (($#)); do
    case "$1" in
      --server) server=$2; shift 2 ;;
      --netns) netns=$2; shift 2 ;;
      --unit) unit=$2; shift 2 ;;
      --linkname) linkname=$2; shift 2 ;;
      --pptp-options) pptp_options=$2; shift 2 ;;
      --logfile) logfile=$2; shift 2 ;;
      --auth) auth=$2; shift 2 ;;
      --mppe) mppe=$2; shift 2 ;;
      --user) user=$2; shift 2 ;;
      --password) password=$2; shift 2 ;;
      --extra) extra=$2; shift 2 ;;
      *) die "guest_pptp_client_start: unknown option $1" ;;
    esac
  done
  local options
  options=$(
    echo "# written by scripts/interop-vm/peers.sh (guest_pptp_client_start)"
    echo "pty \"pptp $server --nolaunchpppd${pptp_options:+ $pptp_options}\""
    echo "name $user remotename pptpd user $user"
    echo "noauth nodefaultroute nobsdcomp nodeflate novj novjccomp"
    pppd_client_auth_options "$auth"
    pppd_mppe_options "$mppe"
    [ -z "$unit" ] || echo "unit $unit"
    echo "linkname $linkname"
    # One try: a test wants the failure, not a redial loop.
    echo "maxfail 1"
    echo "debug nodetach logfile $logfile"
    [ -z "$extra" ] || echo "$extra"
  )
  local prefix=""
  [ -z "$netns" ] || prefix="ip netns exec $netns"
  guest - <<GUEST
set -e
mkdir -p /etc/ppp/peers
cat >/etc/ppp/peers/$linkname <<'CONF'
$options
CONF
umask 077
grep -qF $(printf '%q' "\"$user\" pptpd") /etc/ppp/chap-secrets 2>/dev/null ||
  printf '%s\n' $(secrets_line_word "$user" "$password") >>/etc/ppp/chap-secrets
cp /etc/ppp/chap-secrets /etc/ppp/pap-secrets
setsid $prefix pppd call $linkname </dev/null >/tmp/pgw-$linkname.out 2>&1 &
echo \$! >/tmp/pgw-$linkname.pid
echo "pppd call $linkname started (pid \$!) ${netns:+in namespace $netns }against $server; auth $auth, mppe $mppe"
GUEST
}

guest_wait_ppp_up() { # [--netns NS] IFACE TIMEOUT
  local prefix=""
  if [ "$1" = --netns ]; then prefix="ip netns exec $2"; shift 2; fi
  local iface=$1 timeout=$2
  # A deadline, not a count of tries: under TCG one try costs more than its sleep.
  PGW_GUEST_TIMEOUT=$((timeout + 10)) guest - <<GUEST
while ((SECONDS < $timeout)); do
  if $prefix ip -4 addr show dev $iface 2>/dev/null | grep -q 'inet '; then
    $prefix ip -4 addr show dev $iface | sed -n 's/^ *inet //p'
    exit 0
  fi
  sleep 0.2
done
echo "$iface did not come up within ${timeout}s"
exit 1
GUEST
}

guest_peer_logs() {
  # pptpd's debug logs one "GRE: accepting packet #N" line per packet: counted, not printed.
  guest - <<GUEST
for f in $guest_server_log $guest_client_log \$(ls /var/log/pppd-*.log 2>/dev/null | grep -vxF -e $guest_server_log -e $guest_client_log) /var/log/messages; do
  [ -s "\$f" ] || continue
  echo "---- guest: \$f ----"
  grep -v 'GRE: accepting packet' "\$f"
  n=\$(grep -c 'GRE: accepting packet' "\$f")
  [ "\$n" = 0 ] || echo "(\$n lines 'pptpd: GRE: accepting packet #N' left out)"
done
GUEST
}
