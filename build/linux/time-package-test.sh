#!/usr/bin/env bash
# What the package test's upgrade from an older build and its .rpm part cost: the recipe of
# `make package-test` (without its `build` prerequisite, the same for both) as it was at BASE
# (two .debs of this build, BASE's test-package.sh) and as it is now, on the same build/bin
# binaries, in alternating rounds. Root only, like the package test; run `make package-test`
# first (it builds the binaries and nfpm).
#   build/linux/time-package-test.sh [BASE] [ROUNDS]
# BASE defaults to 3ea1101, the last commit before the older build and the .rpm were added.
set -euo pipefail
base=${1:-3ea1101} rounds=${2:-2}
cd "$(git rev-parse --show-toplevel)"
[ "$(id -u)" = 0 ] || { echo "needs root (the package test installs packages)"; exit 1; }
[ -x build/bin/voicebot ] && [ -x build/bin/voicebot-headless ] && [ -x .tools/nfpm ] || { echo "run make package-test first"; exit 1; }
t=build/dist/test arch=$(go env GOARCH) v=0.0.0~timing
mkdir -p $t
git show "$base:build/linux/test-package.sh" >$t/base-test-package.sh
chmod +x $t/base-test-package.sh
before() {
	ARCH=$arch VERSION=$v .tools/nfpm package -f build/linux/nfpm.yaml -p deb -t $t/old.deb >/dev/null
	ARCH=$arch VERSION=$v.1 .tools/nfpm package -f build/linux/nfpm.yaml -p deb -t $t/new.deb >/dev/null
	$t/base-test-package.sh "$PWD/$t/old.deb" "$PWD/$t/new.deb"
}
after() { # the recipe of make package-test
	build/linux/old-package.sh $t .tools/nfpm "$arch" >/dev/null
	CGO_ENABLED=0 go build -o $t/storecheck ./build/linux/storecheck
	for p in deb rpm; do ARCH=$arch VERSION=$v .tools/nfpm package -f build/linux/nfpm.yaml -p $p -t $t/new.$p >/dev/null; done
	ARCH=$arch VERSION=$v.1 .tools/nfpm package -f build/linux/nfpm.yaml -p rpm -t $t/newer.rpm >/dev/null
	(
		old=-
		if [ -f $t/old.env ]; then . $t/old.env; export OLD_VERSION OLD_SCHEMA; old=$PWD/$t/old.deb; fi
		NEW_VERSION=$v build/linux/test-package.sh "$old" "$PWD/$t/new.deb" "$PWD/$t/new.rpm" "$PWD/$t/newer.rpm" "$PWD/$t/storecheck"
	)
}
for r in $(seq "$rounds"); do
	for w in before after; do
		set +e
		# errexit holds in the subshell (not in a condition); the CPU time (user + system, of
		# every process the recipe ran: go, nfpm, apt, the services) depends less on the load.
		took=$({ TIMEFORMAT="%R s, CPU %U s user + %S s system"; time { (set -e; $w) >/tmp/voicebot-timing.log 2>&1; }; } 2>&1)
		rc=$?
		set -e
		[ $rc = 0 ] || { tail -n 20 /tmp/voicebot-timing.log; echo "the $w recipe failed"; exit 1; }
		echo "round $r: $w $took, load $(cut -d' ' -f1 /proc/loadavg)"
	done
done
rm -f $t/base-test-package.sh
