#!/usr/bin/env bash
# Install everything multihome and its tests need on a fresh Debian machine:
# the kernel tools (iproute2, nftables, iptables, conntrack, procps for sysctl),
# iputils-ping for ICMP health probes, and the npm dependencies, then build.
# Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
for pair in ip:iproute2 nft:nftables iptables:iptables conntrack:conntrack sysctl:procps ping:iputils-ping; do
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
  apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

# npm ci installs exactly the lock file and runs `prepare`, which builds dist/.
npm ci --no-audit --no-fund --loglevel=error
