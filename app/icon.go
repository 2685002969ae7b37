//go:build desktop

package app

import (
	"bytes"
	"image"
	"image/color"
	"image/png"

	vbembed "voicebot/embed"
)

func appIcon() []byte { return vbembed.AppIcon() }

// statusColours are the tray icon's colours per status.
var statusColours = map[trayStatus]color.RGBA{
	statusRunning:   {0x2e, 0x9d, 0x4f, 0xff}, // green
	statusListening: {0x1f, 0x5f, 0xa8, 0xff}, // blue, like the app icon
	statusPaused:    {0xd9, 0x8e, 0x04, 0xff}, // amber
	statusError:     {0xc5, 0x30, 0x30, 0xff}, // red
}

// trayIcon draws the tray icon for a status: a speech bubble on a disc of the status colour,
// 64x64, drawn here so that every status has its own without shipping image files.
func trayIcon(s trayStatus) []byte {
	const n = 64
	img := image.NewRGBA(image.Rect(0, 0, n, n))
	bg := statusColours[s]
	white := color.RGBA{0xff, 0xff, 0xff, 0xff}
	in := func(x, y, cx, cy, r float64) bool { return (x-cx)*(x-cx)+(y-cy)*(y-cy) <= r*r }
	for y := 0; y < n; y++ {
		for x := 0; x < n; x++ {
			fx, fy := float64(x)+0.5, float64(y)+0.5
			if !in(fx, fy, 32, 32, 31) {
				continue
			}
			c := bg
			// the bubble: a rounded box with a tail, three dots inside
			box := fx >= 14 && fx <= 50 && fy >= 17 && fy <= 41 &&
				!(fx < 20 && fy < 23 && !in(fx, fy, 20, 23, 6)) && !(fx > 44 && fy < 23 && !in(fx, fy, 44, 23, 6)) &&
				!(fx < 20 && fy > 35 && !in(fx, fy, 20, 35, 6)) && !(fx > 44 && fy > 35 && !in(fx, fy, 44, 35, 6))
			tail := fy > 40 && fy < 50 && fx > 20 && fx < 30 && fx-20 < (50-fy)
			if box || tail {
				c = white
				if in(fx, fy, 23, 29, 3) || in(fx, fy, 32, 29, 3) || in(fx, fy, 41, 29, 3) {
					c = bg
				}
			}
			img.SetRGBA(x, y, c)
		}
	}
	var b bytes.Buffer
	_ = png.Encode(&b, img)
	return b.Bytes()
}
