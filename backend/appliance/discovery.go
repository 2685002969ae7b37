package appliance

// The appliance's mDNS/DNS-SD advertisement (backend/discovery): on while it listens beyond
// loopback and the settings do not say `discovery: false`; switched with SetLAN and with the
// setting, live. It advertises the listener's own address, or every LAN address of the machine
// when it listens on all of them, renewed when those change.

import (
	"log/slog"
	"net"
	"os"
	"slices"
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
		a.advert, a.advertIPs = nil, ""
	}
	if !want {
		return
	}
	_, port, _ := net.SplitHostPort(a.Addr())
	p, _ := strconv.Atoi(port)
	ips := a.advertisable()
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
	a.advert, a.advertIPs = adv, ipSet(ips)
	slog.Info("advertised on the LAN over mDNS", "service", discovery.Service, "addresses", ips)
}

// advertisable are the addresses to advertise: the listener's own, or every LAN address of the
// machine when it listens on all of them.
func (a *Appliance) advertisable() []net.IP {
	if ip := a.listenHost(); ip != nil {
		return []net.IP{ip}
	}
	var ips []net.IP
	for _, ip := range certs.MachineHosts("").IPs {
		if !ip.IsLoopback() {
			ips = append(ips, ip)
		}
	}
	return ips
}

func ipSet(ips []net.IP) string {
	s := make([]string, len(ips))
	for i, ip := range ips {
		s[i] = ip.String()
	}
	slices.Sort(s)
	return strings.Join(s, " ")
}

// refreshDiscovery renews the advertisement when the machine's addresses are no longer the ones
// it carries (a DHCP lease changed, a cable moved to another network): the address check calls
// it (watchAddresses).
func (a *Appliance) refreshDiscovery() {
	a.discoveryMu.Lock()
	stale := a.advert != nil && a.advertIPs != ipSet(a.advertisable())
	a.discoveryMu.Unlock()
	if stale {
		slog.Info("the machine's addresses changed: advertising the new ones")
		a.updateDiscovery()
	}
}

func (a *Appliance) stopDiscovery() {
	a.discoveryMu.Lock()
	defer a.discoveryMu.Unlock()
	if a.advert != nil {
		_ = a.advert.Close()
		a.advert, a.advertIPs = nil, ""
	}
}
