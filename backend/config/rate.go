package config

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

var rateRe = regexp.MustCompile(`^([1-9][0-9]{0,6})/(s|m|h|sec|min|hour)$`)

// ParseRate reads N/PERIOD (a rate limit, as the settings file and a key's --rate write it) into
// requests per second and a burst of N.
func ParseRate(s string) (perSecond float64, burst int, err error) {
	m := rateRe.FindStringSubmatch(strings.TrimSpace(s))
	if m == nil {
		return 0, 0, fmt.Errorf("rate %q: write requests/period, e.g. 60/m, 5/s or 1000/h", s)
	}
	n, _ := strconv.Atoi(m[1])
	period := map[string]float64{"s": 1, "sec": 1, "m": 60, "min": 60, "h": 3600, "hour": 3600}[m[2]]
	return float64(n) / period, n, nil
}
