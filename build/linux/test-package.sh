#!/usr/bin/env bash
# Installs the packages on this machine and checks them as an operator would (run by `make
# package-test`, as root; CI runs it on its machine):
#   test-package.sh OLD_DEB NEW_DEB NEW_RPM NEWER_RPM STORECHECK
# OLD_DEB is the .deb of an older commit, one schema version behind (build/linux/old-package.sh
# makes it; its OLD_VERSION and OLD_SCHEMA come in the environment), or "-" where git lacked the
# history to build it (then the .deb part starts from NEW_DEB). NEW_DEB and NEW_RPM are this
# build's, versioned NEW_VERSION; NEWER_RPM is the same build versioned higher, for rpm's upgrade.
# STORECHECK is build/linux/storecheck, built: it reads the store's schema version and row counts
# without migrating it.
#
# .deb: the older build installed, its service run (the unit's ExecStart as the service user:
# these machines run no systemd), a key made with its CLI and turns stored through its API; then
# the upgrade to NEW_DEB: the files where nfpm.yaml puts them, the unit (systemd-analyze verify)
# and desktop entry (desktop-file-validate), the service user and folders, the store migrated to
# this build's schema with every session and message kept (the API, `voicebot export` and
# storecheck's counts), the operator's settings kept; a removal that keeps the data and a purge
# that removes it, the user included.
# .rpm: the same checks of this build's package on the same machine (rpm -i, the scriptlets as
# the .deb's left things, serve, rpm -U to NEWER_RPM keeping data and settings, rpm -e keeping the
# data, the user and the edited settings as rpm does, with no purge).
set -euo pipefail
old_deb=$1 new_deb=$2 new_rpm=$3 newer_rpm=$4 storecheck=$5
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
nfpm_yaml=$here/nfpm.yaml
fail() { echo "package test FAILED: $*" >&2; exit 1; }
step() { echo "package test: $*"; }
# Under CI (CI set, as CI services set CI=true) a missing validator fails the test; elsewhere the
# check is skipped, saying so (make package-test installs them as root).
ci() { [ -n "${CI:-}" ] && [ "${CI:-}" != false ] && [ "${CI:-}" != 0 ]; }
need() { # need COMMAND PACKAGE: 0 when COMMAND is there, else fail under CI, else say it is skipped
	command -v "$1" >/dev/null && return 0
	ci && fail "$1 is missing (CI=$CI): apt-get install $2"
	echo "package test: SKIPPED $1 (not installed: apt-get install $2)" >&2
	return 1
}
[ "$(id -u)" = 0 ] || fail "needs root (it installs the package)"
for c in curl jq rpm runuser pgrep; do command -v $c >/dev/null || fail "$c is missing: make package-test installs it (apt-get install curl jq rpm util-linux procps)"; done
: "${NEW_VERSION:?must be the version of the new packages}"
if [ "$old_deb" != - ]; then : "${OLD_VERSION:?}" "${OLD_SCHEMA:?}"; fi
# This build's schema version: the newest migration the binary embeds.
new_schema=$(ls "$root/backend/store/sql" | sed -n 's/^\([0-9]\{4\}\)_.*\.sql$/\1/p' | sort | tail -n 1)
new_schema=$((10#$new_schema))
port=8750
if (exec 3<>/dev/tcp/127.0.0.1/$port) 2>/dev/null; then fail "port $port is in use: stop what listens there first"; fi
# The test installs, purges and erases its own voicebot, the service user and /var/lib/voicebot:
# it refuses to run where any of them is already there, so that it never touches a real install,
# and it can then clean up after itself when it fails.
if dpkg-query -W -f='${Status}' voicebot 2>/dev/null | grep -q installed || getent passwd voicebot >/dev/null ||
	getent group voicebot >/dev/null || [ -e /var/lib/voicebot ] || [ -e /etc/voicebot ] || [ -e /usr/bin/voicebot ]; then
	fail "this machine already has voicebot (package, user, /var/lib/voicebot, /etc/voicebot or /usr/bin/voicebot): the package test installs and removes its own, run it where there is none"
fi

tmp=$(mktemp -d) pid= rpmdb=
chmod 755 "$tmp"
cp "$storecheck" "$tmp/storecheck" # where the service user can run it
cleanup() {
	local rc=$?
	if [ -n "$pid" ]; then
		kill -TERM "$(pgrep -P "$pid")" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	fi
	if [ $rc != 0 ]; then # leave the machine as it was (nothing of voicebot was there, checked above)
		apt-get -o DPkg::Lock::Timeout=300 -y purge voicebot >/dev/null 2>&1 || true
		[ -z "$rpmdb" ] || rpm --dbpath "$rpmdb" -e --nodeps --noscripts voicebot >/dev/null 2>&1 || true
		rm -rf /var/lib/voicebot /etc/voicebot /usr/lib/voicebot /usr/share/doc/voicebot
		userdel voicebot >/dev/null 2>&1 || true
		groupdel voicebot >/dev/null 2>&1 || true
		echo "package test: removed what it had installed (logs: /tmp/voicebot-*.log)" >&2
	fi
	rm -rf "$tmp" "$rpmdb"
}
trap cleanup EXIT

as_service() { runuser -u voicebot -- env VOICEBOT_NO_KEYRING=1 "$@"; }
store_flags=(--data-dir /var/lib/voicebot/data --config-dir /var/lib/voicebot/keys)
serve() { # the installed unit's ExecStart, as the service user, until /healthz answers
	local exec_start
	exec_start=$(sed -n 's/^ExecStart=//p' /usr/lib/systemd/system/voicebot.service)
	# runuser itself in the background (not through a shell function, whose $! would be a
	# subshell: killing it left the service running).
	# shellcheck disable=SC2086 # ExecStart is a command line
	runuser -u voicebot -- env VOICEBOT_NO_KEYRING=1 $exec_start >/tmp/voicebot-service.log 2>&1 &
	pid=$!
	for _ in $(seq 100); do
		curl -fsS "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && return 0
		kill -0 "$pid" 2>/dev/null || { cat /tmp/voicebot-service.log; fail "the service exited"; }
		sleep 0.1
	done
	cat /tmp/voicebot-service.log
	fail "no /healthz on port $port"
}
stop() { # SIGTERM to the service, as systemd stops it (runuser would add a SIGKILL 2 s later)
	local child
	child=$(pgrep -P "$pid") || fail "the service is not running under runuser $pid"
	kill -TERM "$child"
	wait "$pid" || true
	pid=
	! kill -0 "$child" 2>/dev/null || fail "the service (pid $child) still runs after SIGTERM"
	! curl -fsS "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 || fail "something still answers on port $port after the service stopped"
	[ -z "$(find /var/lib/voicebot -not -user voicebot)" ] || fail "files not owned by voicebot: $(find /var/lib/voicebot -not -user voicebot)"
}
api() { # api PATH [JSON]: GET, or POST of JSON, with the test's key; fails on an HTTP error
	local body
	if [ $# = 2 ]; then
		body=$(curl -sS --fail-with-body -H "Authorization: Bearer $key" -H 'Content-Type: application/json' -d "$2" "http://127.0.0.1:$port$1" 2>&1) ||
			fail "POST $1 $2: $body"
	else
		body=$(curl -sS --fail-with-body -H "Authorization: Bearer $key" "http://127.0.0.1:$port$1" 2>&1) || fail "GET $1: $body"
	fi
	echo "$body"
}
chat() { # chat SESSION TEXT: a turn (a new session when SESSION is empty); prints the reply
	api /v1/chat "$(jq -cn --arg s "$1" --arg t "$2" '{text: $t} + (if $s == "" then {} else {session_id: $s} end)')"
}
store() { as_service "$tmp/storecheck" "${store_flags[@]}" || fail "storecheck could not read the store"; }
version_is() { # version_is BINARY WANT: BINARY version prints WANT
	local v
	v=$("$1" version 2>&1) || fail "$1 version: $v"
	[ "$v" = "$2" ] || fail "$1 version printed '$v', want '$2'"
}
# What postinstall.sh leaves: the service user and group, and its folders' owners and modes.
scriptlet_state() {
	getent passwd voicebot | cut -d: -f1,6,7
	getent group voicebot | cut -d: -f1
	stat -c '%n %U:%G %a' /var/lib/voicebot /var/lib/voicebot/data /var/lib/voicebot/keys /etc/voicebot /etc/voicebot/settings.yaml
}
want_state='voicebot:/var/lib/voicebot:/usr/sbin/nologin
voicebot
/var/lib/voicebot voicebot:voicebot 750
/var/lib/voicebot/data voicebot:voicebot 700
/var/lib/voicebot/keys voicebot:voicebot 700
/etc/voicebot root:voicebot 770
/etc/voicebot/settings.yaml root:voicebot 660'
# The paths nfpm.yaml installs (files and folders).
dsts=$(sed -n 's/^[ -]*dst: *//p' "$nfpm_yaml")
[ -n "$dsts" ] || fail "no dst in $nfpm_yaml"
installed_as_nfpm_says() {
	local d
	for d in $dsts; do [ -e "$d" ] || fail "missing $d (nfpm.yaml installs it)"; done
	[ -x /usr/bin/voicebot ] && [ -x /usr/lib/voicebot/voicebot-headless ] || fail "the binaries are not executable"
	# The binaries of this build (the version the build gave them: git describe, while the
	# package's version is PKG_VERSION).
	version_is /usr/bin/voicebot "$("$root/build/bin/voicebot" version 2>&1)"
	version_is /usr/lib/voicebot/voicebot-headless "$("$root/build/bin/voicebot-headless" version 2>&1)"
	cmp -s /usr/lib/voicebot/voicebot-headless "$root/build/bin/voicebot-headless" || fail "/usr/lib/voicebot/voicebot-headless is not build/bin/voicebot-headless"
}
apt_get() { # apt_get COMMAND ARGS: apt-get, waiting up to 5 minutes for dpkg's lock (another install)
	DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 -y --no-install-recommends "$@" >/tmp/voicebot-apt.log 2>&1 ||
		{ cat /tmp/voicebot-apt.log; fail "apt-get $1 $(basename "$2")"; }
}

# ---- .deb: the older build, its data, the upgrade to this build ----
texts=("What are the opening hours?" "How much is a ticket?" "Can I bring my dog?")
if [ "$old_deb" != - ]; then
	[ "$OLD_SCHEMA" -lt "$new_schema" ] || fail "the older build's schema ($OLD_SCHEMA) is not older than this build's ($new_schema)"
	step "install $(basename "$old_deb") (version $OLD_VERSION, schema $OLD_SCHEMA)"
	apt_get install "$old_deb"
	version_is /usr/lib/voicebot/voicebot-headless "voicebot $OLD_VERSION"
else
	step "install $(basename "$new_deb") (no older build to upgrade from)"
	apt_get install "$new_deb"
fi
step "run the unit's ExecStart as the voicebot user; a key, and turns through the API"
serve
key=$(as_service voicebot keys create --name package-test --scopes chat,history "${store_flags[@]}" 2>/dev/null) || fail "voicebot keys create"
reply=$(chat "" "${texts[0]}")
[ "$(jq -r .reply.intent <<<"$reply")" = opening_hours ] || fail "chat reply: $reply"
session=$(jq -r .session_id <<<"$reply")
for t in "${texts[@]:1}"; do
	r=$(chat "$session" "$t")
	[ "$(jq -r .session_id <<<"$r")" = "$session" ] || fail "the turn '$t' went to another session: $r"
done
other=$(chat "" "Hello" | jq -r .session_id)
[ "$other" != "$session" ] || fail "a turn without session_id joined the first session"
stop
before=$(store)
[ "$(jq -c '[.sessions, .messages]' <<<"$before")" = "[2,8]" ] || fail "the store holds $before after 2 sessions of 3 and 1 turns"
[ "$old_deb" = - ] || [ "$(jq .schema <<<"$before")" = "$OLD_SCHEMA" ] || fail "the older build's store is at $before, want schema $OLD_SCHEMA"
step "stored 4 turns in 2 sessions: $before"

echo "# operator's edit" >>/etc/voicebot/settings.yaml
if [ "$old_deb" != - ]; then
	step "upgrade to $(basename "$new_deb") (version $NEW_VERSION, schema $new_schema)"
	apt_get install "$new_deb"
	grep -q "operator's edit" /etc/voicebot/settings.yaml || fail "the upgrade replaced the operator's settings"
fi
installed_as_nfpm_says
[ "$(scriptlet_state)" = "$want_state" ] || fail "after the .deb's postinstall: $(scriptlet_state)"
deb_state=$(scriptlet_state)
if need systemd-analyze systemd; then
	out=$(systemd-analyze verify /usr/lib/systemd/system/voicebot.service 2>&1 | grep -v -e 'Failed to connect' -e 'not running' -e '^$' || true)
	[ -z "$out" ] || { echo "$out"; fail "systemd-analyze verify"; }
	step "unit verified"
fi
if need desktop-file-validate desktop-file-utils; then
	out=$(desktop-file-validate /usr/share/applications/voicebot.desktop 2>&1) || { echo "$out"; fail "desktop entry"; }
	step "desktop entry validated${out:+ ($out)}"
fi

serve
sessions=$(api /v1/sessions)
[ "$(jq -c --arg a "$session" --arg b "$other" '[.sessions[] | select(.id == $a or .id == $b) | .turns] | sort' <<<"$sessions")" = "[1,3]" ] ||
	fail "the sessions after the upgrade: $sessions"
heard=$(api "/v1/sessions/$session/messages" | jq -c '[.messages[] | select(.role == "visitor") | .text]')
[ "$heard" = "$(printf '%s\n' "${texts[@]}" | jq -Rsc 'split("\n")[:-1]')" ] || fail "the visitor's messages after the upgrade: $heard"
exported=$(as_service voicebot export --session "$session" "${store_flags[@]}" 2>/dev/null) || fail "voicebot export"
[ "$(jq -c '[.messages[] | .role] | length' <<<"$exported")" = 6 ] || fail "voicebot export after the upgrade: $exported"
r=$(chat "$session" "Where is the museum?")
[ "$(jq -r .turn_id <<<"$r")" = "$session.4" ] || fail "a turn after the upgrade: $r"
stop
after=$(store)
[ "$(jq -c '[.schema, .sessions, .messages]' <<<"$after")" = "[$new_schema,2,10]" ] ||
	fail "the store after the upgrade is $after, want schema $new_schema with the 2 sessions and 8 messages kept, and the new turn's 2"
if [ "$old_deb" != - ]; then
	step "upgrade from schema $OLD_SCHEMA to $new_schema kept the settings, the key and every turn (API, voicebot export, storecheck: $before -> $after)"
fi

step "remove"
apt_get remove voicebot
[ ! -e /usr/bin/voicebot ] && [ ! -e /usr/lib/voicebot ] || fail "program left after removal"
[ -s /var/lib/voicebot/data/voicebot.db ] || fail "removal deleted the data (only purge may)"
getent passwd voicebot >/dev/null || fail "removal deleted the user (only purge may)"
step "purge"
apt_get purge voicebot
[ ! -e /var/lib/voicebot ] || fail "/var/lib/voicebot left after purge"
[ ! -e /etc/voicebot ] || fail "/etc/voicebot left after purge"
! getent passwd voicebot >/dev/null || fail "user left after purge"
! getent group voicebot >/dev/null || fail "group left after purge"
dpkg -s voicebot >/dev/null 2>&1 && fail "package still known to dpkg"
for d in $dsts; do [ ! -e "$d" ] || fail "$d left after purge"; done
if [ "$old_deb" != - ]; then
	step ".deb passed in $SECONDS s: installs, serves, upgrades from schema $OLD_SCHEMA with the data kept and migrated, removes and purges cleanly"
else
	step ".deb passed in $SECONDS s: installs, serves, removes and purges cleanly (the upgrade from an older build was SKIPPED)"
fi
deb_seconds=$SECONDS

# ---- .rpm: this build's package with rpm on this Debian machine ----
# Debian's rpm keeps its own database (root's ~/.rpmdb by default), apart from dpkg's: a
# scratch one here, so the test leaves nothing in it. That database knows none of the
# dependencies (gtk3, webkit2gtk4.1, shadow-utils...), which Debian provides under other names
# through dpkg: hence --nodeps, and only for that. --force-debian (Debian's rpm only) tells it
# that installing on a dpkg system is meant, instead of warning on every command.
rpmdb=$(mktemp -d)
rpm_opts=(--dbpath "$rpmdb")
! rpm --help 2>/dev/null | grep -q -- --force-debian || rpm_opts+=(--force-debian)
rpmq() { rpm --dbpath "$rpmdb" "$@"; }
newer_version=$(rpmq -qp --qf '%{VERSION}' "$newer_rpm")
step "rpm -i $(basename "$new_rpm")"
rpm "${rpm_opts[@]}" -i --nodeps "$new_rpm" >/tmp/voicebot-rpm.log 2>&1 || { cat /tmp/voicebot-rpm.log; fail "rpm -i"; }
[ "$(rpmq -q --qf '%{VERSION}' voicebot)" = "$NEW_VERSION" ] || fail "rpm -q: $(rpmq -q voicebot)"
files=$(rpmq -ql voicebot)
for d in $dsts; do grep -qxF "$d" <<<"$files" || fail "$d is not in the .rpm (nfpm.yaml installs it): rpm -ql gives $files"; done
installed_as_nfpm_says
# rpm -V: every file as the package holds it (digest, mode, owner), but the settings, whose
# group and mode postinstall sets for the service user (as for the .deb).
out=$(rpmq -V --nodeps voicebot | grep -v ' /etc/voicebot/settings.yaml$' || true)
[ -z "$out" ] || fail "rpm -V: $out"
[ "$(scriptlet_state)" = "$deb_state" ] || fail "the .rpm's scriptlets left $(scriptlet_state), the .deb's $deb_state"
step "files where nfpm.yaml puts them, rpm -V clean, the scriptlets made the user and folders as the .deb's did"
serve
key=$(as_service voicebot keys create --name package-test --scopes chat,history "${store_flags[@]}" 2>/dev/null) || fail "voicebot keys create"
reply=$(chat "" "${texts[0]}")
[ "$(jq -r .reply.intent <<<"$reply")" = opening_hours ] || fail "chat reply: $reply"
session=$(jq -r .session_id <<<"$reply")
stop
before=$(store)
step "healthz and a chat turn answered: $before"

step "rpm -U $(basename "$newer_rpm") (version $newer_version)"
echo "# operator's edit" >>/etc/voicebot/settings.yaml
rpm "${rpm_opts[@]}" -U --nodeps "$newer_rpm" >/tmp/voicebot-rpm.log 2>&1 || { cat /tmp/voicebot-rpm.log; fail "rpm -U"; }
[ "$(rpmq -q voicebot)" = "$(rpmq -qp "$newer_rpm")" ] || fail "after rpm -U: $(rpmq -q voicebot) installed"
grep -q "operator's edit" /etc/voicebot/settings.yaml || fail "rpm -U replaced the operator's settings"
[ "$(scriptlet_state)" = "$deb_state" ] || fail "after rpm -U: $(scriptlet_state)"
serve
[ "$(api /v1/sessions | jq --arg a "$session" '[.sessions[] | select(.id == $a) | .turns] | add')" = 1 ] || fail "the conversation did not survive rpm -U"
stop
[ "$(store)" = "$before" ] || fail "the store after rpm -U is $(store), before $before"
step "rpm -U kept the settings, the key and the conversation"

step "rpm -e"
rpm "${rpm_opts[@]}" -e voicebot >/tmp/voicebot-rpm.log 2>&1 || { cat /tmp/voicebot-rpm.log; fail "rpm -e"; }
rpmq -q voicebot >/dev/null 2>&1 && fail "rpm still lists voicebot"
for f in $files $dsts; do
	[ "$f" = /etc/voicebot/settings.yaml ] || [ ! -e "$f" ] || fail "$f left after rpm -e"
	# The package's own folders go too (an .rpm removes only the folders it lists); /etc/voicebot
	# stays, holding the .rpmsave.
	p=$(dirname "$f")
	case $p in /etc/voicebot) ;; */voicebot) [ ! -e "$p" ] || fail "$p left after rpm -e: $(ls -A "$p" | head -c 200)" ;; esac
done
# rpm has no purge: the data, the user and the operator's edited settings (saved as .rpmsave)
# stay; docs/OPERATIONS.md says how to remove them.
grep -q "operator's edit" /etc/voicebot/settings.yaml.rpmsave || fail "rpm -e did not keep the edited settings as settings.yaml.rpmsave"
getent passwd voicebot >/dev/null || fail "rpm -e deleted the user"
[ "$(store)" = "$before" ] || fail "rpm -e changed the data: $(store), before $before"
rm -rf /var/lib/voicebot /etc/voicebot
userdel voicebot
! getent group voicebot >/dev/null || groupdel voicebot
step ".rpm passed in $((SECONDS - deb_seconds)) s: installs, runs its scriptlets as the .deb does, serves, upgrades with data kept, erases the program and keeps the data"
