#!/bin/sh
# build/linux/arm64-sysroot.sh DIR: Debian's arm64 builds of the speech engines' libraries (and
# the C library), extracted into DIR, a sysroot for the linux/arm64 cross build (`make arm64`:
# aarch64-linux-gnu-gcc --sysroot=DIR, pkg-config inside DIR) and for qemu-user to run the
# result (qemu-aarch64-static -L DIR; build/linux/arm64test).
#
# mmdebstrap --variant=extract only unpacks the packages and their dependencies: nothing is
# installed, no `dpkg --add-architecture` (which breaks apt-get update on the Debian 12 machines
# this project builds on), no package script runs. The suite and the mirror are the host's own
# (/etc/os-release, the apt sources), so the libraries are those of the same Debian release as
# the build machine and as Raspberry Pi OS of that release. Done again only when the package list
# or the suite changes (DIR/.voicebot-sysroot records them); about 200 MB, 30 s.
set -eu
dir=${1:?usage: arm64-sysroot.sh DIR}
pkgs="libc6-dev libpocketsphinx-dev libsphinxbase-dev libespeak-ng-dev espeak-ng-data libblas-dev liblapack-dev"
. /etc/os-release
suite=${VERSION_CODENAME:?no VERSION_CODENAME in /etc/os-release}
stamp="$suite: $pkgs"
if [ -f "$dir/.voicebot-sysroot" ] && [ "$(cat "$dir/.voicebot-sysroot")" = "$stamp" ]; then
	exit 0
fi
# The host's Debian mirror: the first URIs of its deb822 sources, else the first deb line.
mirror=$(awk '/^URIs:/ {print $2; exit}' /etc/apt/sources.list.d/*.sources 2>/dev/null || true)
if [ -z "$mirror" ]; then
	mirror=$(awk '$1 == "deb" {for (i = 2; i <= NF; i++) if ($i ~ /^[a-z]+:\/\//) {print $i; exit}}' /etc/apt/sources.list 2>/dev/null || true)
fi
[ -n "$mirror" ] || { echo "arm64-sysroot.sh: no Debian mirror in the apt sources" >&2; exit 1; }
command -v mmdebstrap >/dev/null || { echo "arm64-sysroot.sh: missing mmdebstrap (apt-get install mmdebstrap)" >&2; exit 1; }
echo "arm64 sysroot: extracting $pkgs ($suite, arm64) into $dir"
rm -rf "$dir" "$dir.tmp"
mkdir -p "$(dirname "$dir")"
mmdebstrap --quiet --arch=arm64 --variant=extract --include="$(echo $pkgs | tr ' ' ,)" "$suite" "$dir.tmp" "$mirror"
# The links update-alternatives makes when libblas3 and liblapack3 are installed (extract runs
# no package script).
lib="$dir.tmp/usr/lib/aarch64-linux-gnu"
for l in blas lapack; do
	ln -sf "$l/lib$l.so.3" "$lib/lib$l.so.3"
	ln -sf "$l/lib$l.so" "$lib/lib$l.so"
done
echo "$stamp" > "$dir.tmp/.voicebot-sysroot"
mv "$dir.tmp" "$dir"
