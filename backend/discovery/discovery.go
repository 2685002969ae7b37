// Package discovery advertises the appliance on the LAN over mDNS/DNS-SD as a _voicebot._tcp
// service (github.com/hashicorp/mdns), with its name, version and CA fingerprint in the TXT
// record, and finds the appliances advertised (`voicebot discover`). The appliance advertises
// only when it listens beyond loopback, and not with `discovery: false` in its settings.
package discovery

import (
	"context"
	"fmt"
	"io"
	"log"
	"net"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/hashicorp/mdns"
)

// Service is the DNS-SD service type.
const Service = "_voicebot._tcp"

// quiet drops the mDNS library's log lines (malformed packets from other devices and the like).
var quiet = log.New(io.Discard, "", 0)

// Info is what an appliance advertises.
type Info struct {
	Instance      string // the service instance's label, e.g. voicebot-kiosk
	Host          string // its mDNS host name, e.g. kiosk.local
	Name          string // what it calls itself (the bot's name)
	Version       string
	CAFingerprint string
	Port          int
	IPs           []net.IP
}

// Advertiser answers mDNS queries for one appliance until Close.
type Advertiser struct{ srv *mdns.Server }

// Advertise starts answering for info on every multicast interface.
func Advertise(info Info) (*Advertiser, error) {
	if len(info.IPs) == 0 {
		return nil, fmt.Errorf("advertise: no address to advertise")
	}
	host := strings.TrimSuffix(info.Host, ".") + "."
	txt := []string{"name=" + info.Name, "version=" + info.Version, "ca=" + info.CAFingerprint, "path=/"}
	svc, err := mdns.NewMDNSService(info.Instance, Service, "local.", host, info.Port, info.IPs, txt)
	if err != nil {
		return nil, fmt.Errorf("advertise: %w", err)
	}
	srv, err := mdns.NewServer(&mdns.Config{Zone: svc, Logger: quiet})
	if err != nil {
		return nil, fmt.Errorf("advertise: %w", err)
	}
	return &Advertiser{srv: srv}, nil
}

// Close stops answering.
func (a *Advertiser) Close() error {
	if a == nil {
		return nil
	}
	return a.srv.Shutdown()
}

// Found is an appliance that answered.
type Found struct {
	Instance      string `json:"instance"`
	Host          string `json:"host"`
	Name          string `json:"name"`
	Version       string `json:"version"`
	CAFingerprint string `json:"ca_fingerprint"`
	Address       string `json:"address"`
	Port          int    `json:"port"`
	URL           string `json:"url"` // the https address screens open
}

// Browse asks the LAN for appliances and collects the answers for wait (1 s at least).
func Browse(ctx context.Context, wait time.Duration) ([]Found, error) {
	entries := make(chan *mdns.ServiceEntry, 64)
	var out []Found
	done := make(chan struct{})
	go func() {
		defer close(done)
		for e := range entries {
			f := Found{Instance: strings.TrimSuffix(strings.TrimSuffix(e.Name, "."), "."+Service+".local"), Host: strings.TrimSuffix(e.Host, "."), Port: e.Port}
			for _, kv := range e.InfoFields {
				k, v, _ := strings.Cut(kv, "=")
				switch k {
				case "name":
					f.Name = v
				case "version":
					f.Version = v
				case "ca":
					f.CAFingerprint = v
				}
			}
			switch {
			case e.AddrV4 != nil:
				f.Address = e.AddrV4.String()
			case e.AddrV6IPAddr != nil:
				f.Address = e.AddrV6IPAddr.String()
			}
			if f.Address == "" {
				continue
			}
			f.URL = "https://" + net.JoinHostPort(f.Address, strconv.Itoa(f.Port)) + "/"
			if !slices.ContainsFunc(out, func(o Found) bool { return o.URL == f.URL }) {
				out = append(out, f)
			}
		}
	}()
	p := mdns.DefaultParams(Service)
	p.Entries, p.Timeout, p.Logger = entries, max(wait, time.Second), quiet
	p.DisableIPv6 = true // IPv4 answers are enough to reach an appliance; one socket fewer
	err := mdns.QueryContext(ctx, p)
	close(entries)
	<-done
	slices.SortFunc(out, func(a, b Found) int { return strings.Compare(a.URL, b.URL) })
	return out, err
}
