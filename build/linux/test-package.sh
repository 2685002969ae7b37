#!/usr/bin/env bash
# Installs the .deb on this machine and checks it as an operator would (run by `make
# package-test`, as root; CI runs it on a throwaway machine): the service user and folders,
# the unit (systemd-analyze verify; these machines run no systemd, so the unit's ExecStart is run
# as the service user instead), /healthz and a chat turn, an upgrade that keeps the data, a
# removal that keeps it and a purge that removes it, the user included.
set -euo pipefail
deb_old=$1 deb_new=$2
fail() { echo "package test FAILED: $*" >&2; exit 1; }
step() { echo "package test: $*"; }
# Under CI (CI set, as CI services set CI=true) a missing validator fails the test; elsewhere the
# check is skipped, saying so (make package-test installs both as root).
ci() { [ -n "${CI:-}" ] && [ "${CI:-}" != false ] && [ "${CI:-}" != 0 ]; }
need() { # need COMMAND PACKAGE: 0 when COMMAND is there, else fail under CI, else say it is skipped
	command -v "$1" >/dev/null && return 0
	ci && fail "$1 is missing (CI=$CI): apt-get install $2"
	echo "package test: SKIPPED $1 (not installed: apt-get install $2)" >&2
	return 1
}
[ "$(id -u)" = 0 ] || fail "needs root (it installs the package)"
port=8750
if (exec 3<>/dev/tcp/127.0.0.1/$port) 2>/dev/null; then fail "port $port is in use: stop what listens there first"; fi

step "install $(basename "$deb_old")"
DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "$deb_old" >/tmp/voicebot-apt.log 2>&1 || { cat /tmp/voicebot-apt.log; fail "apt-get install"; }
getent passwd voicebot >/dev/null || fail "no voicebot user"
[ "$(stat -c %U:%a /var/lib/voicebot/data)" = "voicebot:700" ] || fail "data folder owner/mode: $(stat -c %U:%a /var/lib/voicebot/data)"
for f in /usr/bin/voicebot /usr/lib/voicebot/voicebot-headless /usr/lib/systemd/system/voicebot.service /usr/share/applications/voicebot.desktop /usr/share/icons/hicolor/512x512/apps/voicebot.png /etc/voicebot/settings.yaml; do
	[ -e "$f" ] || fail "missing $f"
done
if need systemd-analyze systemd; then
	out=$(systemd-analyze verify /usr/lib/systemd/system/voicebot.service 2>&1 | grep -v -e 'Failed to connect' -e 'not running' -e '^$' || true)
	[ -z "$out" ] || { echo "$out"; fail "systemd-analyze verify"; }
	step "unit verified"
fi
if need desktop-file-validate desktop-file-utils; then
	desktop-file-validate /usr/share/applications/voicebot.desktop || fail "desktop entry"
	step "desktop entry validated"
fi

exec_start=$(sed -n 's/^ExecStart=//p' /usr/lib/systemd/system/voicebot.service)
serve() {
	runuser -u voicebot -- env VOICEBOT_NO_KEYRING=1 $exec_start >/tmp/voicebot-service.log 2>&1 &
	pid=$!
	for _ in $(seq 100); do
		curl -fsS "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && return 0
		kill -0 $pid 2>/dev/null || { cat /tmp/voicebot-service.log; fail "the service exited"; }
		sleep 0.1
	done
	cat /tmp/voicebot-service.log; fail "no /healthz on port $port"
}
stop() { kill -TERM $pid; wait $pid || true; }

step "run the unit's ExecStart as the voicebot user"
serve
key=$(runuser -u voicebot -- env VOICEBOT_NO_KEYRING=1 voicebot keys create --name package-test --scopes chat,history --data-dir /var/lib/voicebot/data --config-dir /var/lib/voicebot/keys)
reply=$(curl -fsS -H "Authorization: Bearer $key" -H 'Content-Type: application/json' -d '{"text":"What are the opening hours?"}' "http://127.0.0.1:$port/v1/chat")
echo "$reply" | grep -q '"intent":"opening_hours"' || fail "chat reply: $reply"
step "healthz and a chat turn answered"
stop
[ -z "$(find /var/lib/voicebot -not -user voicebot)" ] || fail "files not owned by voicebot: $(find /var/lib/voicebot -not -user voicebot)"

step "upgrade to $(basename "$deb_new")"
echo "# operator's edit" >> /etc/voicebot/settings.yaml
DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "$deb_new" >/tmp/voicebot-apt.log 2>&1 || { cat /tmp/voicebot-apt.log; fail "upgrade"; }
grep -q "operator's edit" /etc/voicebot/settings.yaml || fail "the upgrade replaced the operator's settings"
serve
curl -fsS -H "Authorization: Bearer $key" "http://127.0.0.1:$port/v1/sessions" | grep -q '"turns":1' || fail "the conversation did not survive the upgrade"
stop
step "upgrade kept the settings, the key and the conversation"

step "remove"
dpkg --remove voicebot >/dev/null
[ ! -e /usr/bin/voicebot ] && [ ! -e /usr/lib/voicebot ] || fail "program left after removal"
[ -s /var/lib/voicebot/data/voicebot.db ] || fail "removal deleted the data (only purge may)"
getent passwd voicebot >/dev/null || fail "removal deleted the user (only purge may)"
step "purge"
dpkg --purge voicebot >/dev/null
[ ! -e /var/lib/voicebot ] || fail "/var/lib/voicebot left after purge"
[ ! -e /etc/voicebot ] || fail "/etc/voicebot left after purge"
! getent passwd voicebot >/dev/null || fail "user left after purge"
dpkg -s voicebot >/dev/null 2>&1 && fail "package still known to dpkg"
step "passed: installs, serves, upgrades with data kept, removes and purges cleanly"
