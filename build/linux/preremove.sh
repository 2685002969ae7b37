#!/bin/sh
# voicebot package: before removal (not before an upgrade): stop and disable the service.
set -e
case "$1" in
	upgrade|1) exit 0 ;; # deb upgrade, or rpm with one version left
esac
if [ -d /run/systemd/system ]; then
	systemctl stop voicebot.service >/dev/null 2>&1 || true
	systemctl disable voicebot.service >/dev/null 2>&1 || true
fi
exit 0
