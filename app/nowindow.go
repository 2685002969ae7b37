//go:build !desktop

package app

import (
	"context"

	"voicebot/backend/appliance"
)

const windowBuilt = false

func runWindow(context.Context, appliance.Options, bool) error { return ErrNoWindow }
