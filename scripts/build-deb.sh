#!/usr/bin/env bash
# Build the Debian package: multihome_VERSION_all.deb in OUT (default: the repository root).
#   /usr/lib/multihome/        the built program (dist/src) with its production node_modules
#   /usr/bin/multihome         a link to it
#   /lib/systemd/system/multihome.service
#   /usr/share/doc/multihome/  README, docs, the example configs
#   /usr/share/man/man8/multihome.8.gz, bash and zsh completion
# Needs a built tree (npm ci) and dpkg-deb; the node_modules are those of this tree, pruned to
# production, so nothing is downloaded. Usage: scripts/build-deb.sh [OUT]
set -euo pipefail
cd "$(dirname "$0")/.."
out=$(cd "${1:-.}" && pwd)
version=$(node -p "require('./package.json').version")
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
root=$stage/root
lib=$root/usr/lib/multihome
mkdir -p "$lib" "$root/usr/bin" "$root/lib/systemd/system" "$root/usr/share/doc/multihome" \
  "$root/usr/share/man/man8" "$root/usr/share/bash-completion/completions" "$root/usr/share/zsh/vendor-completions" "$root/DEBIAN"

[ -f dist/src/cli/main.js ] || { echo "build-deb: run npm ci (or npm run build) first" >&2; exit 1; }
mkdir -p "$lib/dist" && (cd dist && find src -name '*.js' -print0 | tar --null -T - -cf -) | (cd "$lib/dist" && tar -xf -)
cp package.json package-lock.json "$lib/"
cp -a node_modules "$lib/"
(cd "$lib" && npm prune --omit=dev --no-audit --no-fund --loglevel=error >/dev/null)
rm -f "$lib/package-lock.json"
chmod 755 "$lib/dist/src/cli/main.js"
ln -s ../lib/multihome/dist/src/cli/main.js "$root/usr/bin/multihome"

sed -e 's#/usr/bin/env multihome#/usr/bin/multihome#' -e 's#file:///usr/lib/node_modules/multihome/docs/operations.md#file:///usr/share/doc/multihome/docs/operations.md#' \
  contrib/multihome.service > "$root/lib/systemd/system/multihome.service"
cp -r README.md docs examples "$root/usr/share/doc/multihome/"
gzip -9n < contrib/multihome.8 > "$root/usr/share/man/man8/multihome.8.gz"
cp contrib/completions/multihome.bash "$root/usr/share/bash-completion/completions/multihome"
cp contrib/completions/_multihome "$root/usr/share/zsh/vendor-completions/_multihome"

size=$(du -sk "$root" | cut -f1)
cat > "$root/DEBIAN/control" <<CONTROL
Package: multihome
Version: $version
Architecture: $(dpkg --print-architecture)
Maintainer: multihome developers <multihome@example.org>
Installed-Size: $size
Depends: nodejs (>= 20) | node (>= 20), iproute2, nftables, conntrack, iputils-ping, procps
Recommends: socat, radvd
Section: net
Priority: optional
Homepage: https://example.org/multihome
Description: policy routing and failover for routers with several internet uplinks
 multihome compiles one YAML file to per-uplink routing tables, ip rules and an
 nftables table, applies it safely, probes every uplink through itself, fails
 over in about a second, and explains which uplink any packet takes.
CONTROL
find "$root" -type d -exec chmod 755 {} +
deb=$out/multihome_${version}_$(dpkg --print-architecture).deb
dpkg-deb --root-owner-group --build "$root" "$deb" >/dev/null
echo "$deb"
