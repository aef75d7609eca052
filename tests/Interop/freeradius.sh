# Debian's FreeRADIUS on the host side of the interop namespace, for the cases where our server checks logins
# with RADIUS: Debian's raddb copied into the case's artifacts, its sites and EAP (which needs certificates)
# replaced by one site on 127.0.0.1 (auth $radius_port, accounting $radius_port + 1), the users the case
# writes, a detail file of every accounting request, and Message-Authenticator on every answer (Debian 12's
# FreeRADIUS 3.2.1 does not sign answers by itself; the README shows the same lines). Run as root, so the
# copy needs no chown. The same setup as tests/Firmware.Gateway.Tests/Integration/FreeRadiusServer.cs.
radius_port=${radius_port:-18120}
radius_secret=${radius_secret:-interop-radius-secret}

radius_dir() { echo "$artifacts/$case_name.raddb"; }
radius_detail() { echo "$(radius_dir)/detail"; }

radius_start() { # users-file-text
  local dir users=$1
  dir=$(radius_dir)
  rm -rf "$dir"
  cp -a /etc/freeradius/3.0 "$dir"
  rm -f "$dir"/sites-enabled/* "$dir/mods-enabled/eap"
  sed -i -E 's/^(\s*)(user|group) = freerad/\1#\2 = freerad/' "$dir/radiusd.conf"
  printf '%s\n' "$users" >"$dir/mods-config/files/authorize"
  cat >"$dir/clients.conf" <<CLIENTS
client pptp-gateway {
	ipaddr = 127.0.0.1
	secret = $radius_secret
	require_message_authenticator = yes
}
CLIENTS
  cat >"$dir/mods-enabled/pptp_detail" <<DETAIL
detail pptp_detail {
	filename = $dir/detail
	escape_filenames = no
	permissions = 0600
	header = "%t"
}
DETAIL
  cat >"$dir/sites-enabled/pptp-gateway" <<SITE
server pptp-gateway {
	listen {
		type = auth
		ipaddr = 127.0.0.1
		port = $radius_port
	}
	listen {
		type = acct
		ipaddr = 127.0.0.1
		port = $((radius_port + 1))
	}
	authorize {
		chap
		mschap
		files
		pap
	}
	authenticate {
		Auth-Type PAP {
			pap
		}
		Auth-Type CHAP {
			chap
		}
		Auth-Type MS-CHAP {
			mschap
		}
	}
	preacct {
		preprocess
	}
	accounting {
		pptp_detail
	}
	post-auth {
		update reply {
			&Message-Authenticator := 0x00
		}
		Post-Auth-Type REJECT {
			attr_filter.access_reject
			update reply {
				&Message-Authenticator := 0x00
			}
		}
	}
}
SITE
  require "freeradius is installed (scripts/setup)" command -v freeradius
  host_start freeradius freeradius -X -d "$dir"
  wait_until 20 "FreeRADIUS ready on 127.0.0.1:$radius_port" grep -q "Ready to process requests" "$(host_log freeradius)"
}

# The server.radius object for our config: this FreeRADIUS, accounting on.
radius_config_json() {
  echo "{ \"servers\": [ { \"address\": \"127.0.0.1\", \"port\": $radius_port, \"accountingPort\": $((radius_port + 1)), \"secret\": \"$radius_secret\" } ], \"timeoutSeconds\": 2, \"attempts\": 2 }"
}

# True once the detail file has a record of TYPE (Start, Interim-Update, Stop) holding every "Name = value" given.
radius_has_record() { # type [attribute-line...]
  local type=$1
  shift
  awk -v type="$type" -v want="$(printf '%s\n' "$@")" '
    BEGIN { n = split(want, wanted, "\n") }
    function judge() { if (record ~ ("\tAcct-Status-Type = " type "\n")) { ok = 1; for (i = 1; i <= n; i++) if (wanted[i] != "" && index(record, "\t" wanted[i] "\n") == 0) ok = 0; if (ok) found = 1 } }
    /^$/ { judge(); record = ""; next }
    { record = record $0 "\n" }
    END { judge(); exit found ? 0 : 1 }' "$(radius_detail)"
}
