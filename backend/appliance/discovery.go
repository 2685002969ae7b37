package appliance

// The appliance's mDNS/DNS-SD advertisement (backend/discovery): on while it listens beyond
// loopback and the settings do not say `discovery: false`; switched with SetLAN and with the
// setting, live. It advertises the listener's own address, or every LAN address of the machine
// when it listens on all of them.

import (
	"log/slog"
	"net"
	"os"
	"strconv"
	"strings"

	"voicebot/backend/certs"
	"voicebot/backend/discovery"
)

// updateDiscovery starts or stops the advertisement to match the listener and the settings.
func (a *Appliance) updateDiscovery() {
	a.mu.Lock()
	off := a.file.NoDiscovery || a.Opts.NoDiscovery
	a.mu.Unlock()
	want := !off && a.LAN()
	a.discoveryMu.Lock()
	defer a.discoveryMu.Unlock()
	if a.advert != nil {
		_ = a.advert.Close()
		a.advert = nil
	}
	if !want {
		return
	}
	_, port, _ := net.SplitHostPort(a.Addr())
	p, _ := strconv.Atoi(port)
	var ips []net.IP
	if ip := a.listenHost(); ip != nil {
		ips = []net.IP{ip}
	} else {
		for _, ip := range certs.MachineHosts("").IPs {
			if !ip.IsLoopback() {
				ips = append(ips, ip)
			}
		}
	}
	host, _ := os.Hostname()
	host, _, _ = strings.Cut(strings.ToLower(host), ".")
	name := "VoiceBot"
	if snap := a.Engine.Snapshot(); snap != nil && snap.Pack != nil && snap.Pack.Bot.Name != "" {
		name = snap.Pack.Bot.Name
	}
	adv, err := discovery.Advertise(discovery.Info{Instance: "voicebot-" + host, Host: a.tls.mdnsName, Name: name, Version: a.Opts.Version,
		CAFingerprint: a.CAFingerprint(), Port: p, IPs: ips})
	if err != nil {
		slog.Warn("not advertised on the LAN (mDNS)", "err", err)
		return
	}
	a.advert = adv
	slog.Info("advertised on the LAN over mDNS", "service", discovery.Service, "addresses", ips)
}

func (a *Appliance) stopDiscovery() {
	a.discoveryMu.Lock()
	defer a.discoveryMu.Unlock()
	if a.advert != nil {
		_ = a.advert.Close()
		a.advert = nil
	}
}
