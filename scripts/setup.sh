#!/usr/bin/env bash
# Install everything multihome and its tests need on a fresh Debian machine:
# the kernel tools (iproute2, nftables, iptables, conntrack, procps for sysctl),
# iputils-ping for ICMP health probes, radvd (router advertisements for
# prefix-per-uplink IPv6), dnsmasq (a resolver on the lab router), prometheus (for
# promtool, which checks the daemon's /metrics) and chromium (the status page's test,
# driven by playwright-core), socat (systemd's notify socket), iperf3 (bench/dataplane.ts:
# forwarded throughput), and the npm dependencies, then build.
# Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
for pair in ip:iproute2 nft:nftables iptables:iptables conntrack:conntrack sysctl:procps ping:iputils-ping radvd:radvd dnsmasq:dnsmasq-base promtool:prometheus chromium:chromium socat:socat iperf3:iperf3; do
  cmd=${pair%%:*}; pkg=${pair##*:}
  command -v "$cmd" >/dev/null 2>&1 || need+=("$pkg")
done
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "setup: missing ${need[*]}; run as root (or: sudo apt-get install ${need[*]})" >&2
    exit 1
  fi
  echo "setup: installing ${need[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  # Packages that ship a service (radvd, prometheus, iperf3) must not start it in the host's namespace: multihome and
  # its lab run their own instances. policy-rc.d says "no starting" for the time of the install.
  own_policy=
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod 755 /usr/sbin/policy-rc.d && own_policy=1
  fi
  apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
  [ -z "$own_policy" ] || rm -f /usr/sbin/policy-rc.d
fi

# npm ci installs exactly the lock file and runs `prepare`, which builds dist/.
npm ci --no-audit --no-fund --loglevel=error
