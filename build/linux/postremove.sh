#!/bin/sh
# voicebot package: after removal. Conversations, keys and the store key stay in
# /var/lib/voicebot unless the package is purged (dpkg --purge / apt purge); then they and the
# service user go. rpm has no purge: remove /var/lib/voicebot by hand (docs/OPERATIONS.md).
set -e
if [ "$1" = "purge" ]; then
	rm -rf /var/lib/voicebot /etc/voicebot
	if getent passwd voicebot >/dev/null; then userdel voicebot >/dev/null 2>&1 || true; fi
	if getent group voicebot >/dev/null; then groupdel voicebot >/dev/null 2>&1 || true; fi
fi
if [ -d /run/systemd/system ]; then
	systemctl daemon-reload >/dev/null 2>&1 || true
fi
exit 0
