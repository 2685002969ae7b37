#!/bin/sh
# voicebot package: after install or upgrade. Creates the service user and its folders (data
# survives upgrades and removal; purge deletes it), then enables and (re)starts the service
# where systemd runs.
set -e
if ! getent group voicebot >/dev/null; then
	groupadd --system voicebot
fi
if ! getent passwd voicebot >/dev/null; then
	useradd --system --gid voicebot --home-dir /var/lib/voicebot --no-create-home \
		--shell /usr/sbin/nologin --comment "VoiceBot appliance" voicebot
fi
install -d -o voicebot -g voicebot -m 0750 /var/lib/voicebot
install -d -o voicebot -g voicebot -m 0700 /var/lib/voicebot/data /var/lib/voicebot/keys
chown root:voicebot /etc/voicebot /etc/voicebot/settings.yaml
chmod 0770 /etc/voicebot
chmod 0660 /etc/voicebot/settings.yaml
if [ -d /run/systemd/system ]; then
	systemctl daemon-reload >/dev/null 2>&1 || true
	systemctl enable voicebot.service >/dev/null 2>&1 || true
	systemctl restart voicebot.service >/dev/null 2>&1 || true
fi
if command -v update-desktop-database >/dev/null 2>&1; then
	update-desktop-database -q /usr/share/applications || true
fi
exit 0
