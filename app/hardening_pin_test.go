//go:build desktop

package app

// Kiosk PIN attempts in parallel (issue 16): the lockout holds however many attempts arrive at
// once, and no tray action or window call made before the window started can kill the process.

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"voicebot/backend/appliance"
)

func startCore(t *testing.T) *appliance.Appliance {
	t.Helper()
	a, err := appliance.Start(context.Background(), appliance.Options{DataDir: t.TempDir(), ConfigDir: t.TempDir(), Listen: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = a.Close(context.Background()) })
	return a
}

func TestKioskPINLimitHoldsInParallel(t *testing.T) {
	a := startCore(t)
	hash, err := bcrypt.GenerateFromPassword([]byte("482916"), bcrypt.DefaultCost)
	if err != nil {
		t.Fatal(err)
	}
	w := &Window{a: a, kiosk: true, pinHash: hash}
	const attempts = 40
	var wg sync.WaitGroup
	results := make(chan string, attempts)
	start := make(chan struct{})
	for i := range attempts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			results <- w.Unlock(strings.Repeat("1", 4+i%3))
		}()
	}
	close(start)
	wg.Wait()
	close(results)
	compared := 0
	for msg := range results {
		if !strings.HasPrefix(msg, "Too many wrong PINs") {
			compared++ // this attempt was checked against the PIN
		}
	}
	if compared > maxPINFailures {
		t.Errorf("%d of %d parallel attempts were checked against the PIN; the limit is %d", compared, attempts, maxPINFailures)
	}
	if msg := w.Unlock("482916"); !strings.HasPrefix(msg, "Too many wrong PINs") || w.unlocked() {
		t.Errorf("the right PIN during the lockout: %q, unlocked %v", msg, w.unlocked())
	}
	// After the lockout the right PIN unlocks.
	w.mu.Lock()
	w.lockedUntil = time.Now()
	w.mu.Unlock()
	if msg := w.Unlock("482916"); msg != "" || !w.unlocked() {
		t.Errorf("the right PIN after the lockout: %q", msg)
	}
}
