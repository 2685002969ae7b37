package dashboard

// The Overview's storage card: how the store grows and when the data volume would be full.

import (
	"fmt"
	"time"

	"voicebot/backend/telemetry"
)

// growthText says how fast the store grows and how long the volume lasts at that rate.
func growthText(f telemetry.Forecast) string {
	if f.Over == 0 {
		return fmt.Sprintf("measured after %s of running (sampled each minute)", telemetry.MinForecastSpan)
	}
	over := "the last " + f.Over.Round(time.Minute).String()
	if f.Over >= telemetry.ForecastWindow-time.Minute {
		over = "the last 24 h"
	}
	if f.BytesPerDay <= 0 {
		return "not growing over " + over
	}
	s := fmt.Sprintf("%s a day over %s", humanBytes(int64(f.BytesPerDay)), over)
	switch {
	case f.DaysToFull < 0:
	case f.DaysToFull >= 3650:
		s += "; the volume lasts more than 10 years at this rate"
	default:
		s += fmt.Sprintf("; the volume is full in %.0f days at this rate", f.DaysToFull)
	}
	return s
}

// volumeClass colours the free space: warn under 30 days or 10%, bad under 7 days or 2%.
func volumeClass(f telemetry.Forecast) string {
	share := float64(f.Stats.VolumeFree) / float64(max(f.Stats.VolumeSize, 1))
	days := f.DaysToFull
	switch {
	case share < 0.02 || (days >= 0 && days < 7):
		return "bad"
	case share < 0.10 || (days >= 0 && days < 30):
		return "warn"
	}
	return "ok"
}
