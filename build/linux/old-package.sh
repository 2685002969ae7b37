#!/usr/bin/env bash
# Builds the .deb of an older commit for the package test's upgrade (run by `make package-test`):
#   build/linux/old-package.sh OUT_DIR NFPM ARCH
# writes OUT_DIR/old.deb and OUT_DIR/old.env (OLD_COMMIT, OLD_VERSION, OLD_SCHEMA), or, where git
# has not the history it needs, says why and writes neither: under CI (CI=true) that is a failure
# (exit 1), elsewhere the upgrade from an older build is skipped (exit 0) and the package test
# installs the new package alone.
#
# Which commit: the one just before the newest migration of backend/store/sql (as HEAD holds it)
# was added, i.e. the last commit whose store is one schema version older. An upgrade over it
# runs a real migration on real data, whatever happened since, and the choice moves forward by
# itself as migrations are added, without a tag or a list to keep up (there are no release tags
# yet; once there are, the last tag is the other natural choice). The rest of that commit's
# history (its API, its CLI, its packaging scripts) is what an installed appliance of that
# schema version runs, so its package is built from its own nfpm.yaml and scripts.
#
# What it builds: that commit's headless binary (CGO_ENABLED=0, as `make headless`) in a git
# worktree under OUT_DIR, with the Go build cache shared, so only the packages that differ from
# HEAD's are compiled. Nothing needs generating first: the templ components' Go code, the
# dashboard's npm assets and the visitor screen (frontend/dist) are committed wherever the code
# embeds them (a commit that could not build that way fails here, saying so), and `go build .` is
# what `make headless` runs after `templ generate`, which only regenerates committed files. The package's /usr/bin/voicebot is that
# headless binary too: the desktop build of that commit would add a cgo build of GTK and WebKit
# for no gain, since the service, the part an upgrade must carry over, runs the headless binary
# (/usr/lib/voicebot/voicebot-headless) and the CLI is the same code in both.
set -euo pipefail
out=$1 nfpm=$2 arch=$3
ci() { [ -n "${CI:-}" ] && [ "${CI:-}" != false ] && [ "${CI:-}" != 0 ]; }
cannot() { # cannot REASON: fail under CI, else skip the upgrade from an older build
	rm -f "$out/old.deb" "$out/old.env"
	if ci; then echo "package test FAILED: no older build to upgrade from: $* (CI=$CI needs the full history: git clone without --depth)" >&2; exit 1; fi
	echo "package test: SKIPPED the upgrade from an older build: $* (clone without --depth, or git fetch --unshallow)" >&2
	exit 0
}
top=$(git rev-parse --show-toplevel)
nfpm=$(realpath "$nfpm")
mkdir -p "$out"
out=$(realpath "$out")
[ "$(git rev-parse --is-shallow-repository)" = false ] || cannot "this clone is shallow"

newest=$(git ls-tree --name-only HEAD backend/store/sql/ | grep -E '/[0-9]{4}_[^/]*\.sql$' | sort | tail -n 1)
[ -n "$newest" ] || cannot "HEAD has no migration in backend/store/sql"
added=$(git log -1 --format=%H --diff-filter=A -- "$newest")
[ -n "$added" ] || cannot "no commit adds $newest"
old=$(git rev-parse --verify --quiet "$added^") || cannot "$newest was added by the first commit, there is no older schema"
old_schema=$(git ls-tree --name-only "$old" backend/store/sql/ | sed -n 's|.*/\([0-9]\{4\}\)_[^/]*\.sql$|\1|p' | sort | tail -n 1)
[ -n "$old_schema" ] || cannot "commit $old has no store migrations"
old_schema=$((10#$old_schema))
git cat-file -e "$old:build/linux/nfpm.yaml" 2>/dev/null || cannot "commit $old has no build/linux/nfpm.yaml"
tag=$(git describe --tags --exact-match --match 'v[0-9]*' "$old" 2>/dev/null || true)
if [ -n "$tag" ]; then old_version=${tag#v}; else
	old_version=0.0.0~git$(git log -1 --format=%cd --date=format:%Y%m%d%H%M%S "$old").$(git rev-parse --short "$old")
fi

src=$out/old-src
git worktree remove --force "$src" >/dev/null 2>&1 || rm -rf "$src"
git worktree prune
git worktree add --detach "$src" "$old" >/dev/null 2>&1 || cannot "git worktree add $old failed"
trap 'git -C "$top" worktree remove --force "$src" >/dev/null 2>&1 || true' EXIT
echo "package test: older build: $old ($(git log -1 --format=%s "$old" | cut -c1-60)...), schema $old_schema, version $old_version (the commit before $(basename "$newest") was added)"
start=$(date +%s)
(
	cd "$src"
	mkdir -p build/bin
	CGO_ENABLED=0 ${GO:-go} build -trimpath -ldflags "-s -w -X voicebot/backend/cli.Version=$old_version" -o build/bin/voicebot-headless .
	cp build/bin/voicebot-headless build/bin/voicebot
	ARCH=$arch VERSION=$old_version "$nfpm" package -f build/linux/nfpm.yaml -p deb -t "$out/old.deb" >/dev/null
) || { echo "package test FAILED: could not build or package commit $old" >&2; exit 1; }
printf 'OLD_COMMIT=%s\nOLD_VERSION=%s\nOLD_SCHEMA=%s\n' "$old" "$old_version" "$old_schema" >"$out/old.env"
echo "package test: older build packaged in $(($(date +%s) - start)) s"
