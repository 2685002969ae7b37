package keys

// A revoked key is refused from the moment Revoke (or Rotate) returns, whatever verifications
// were under way when it ran (issue 16): a Verify that read the key's row before the revocation
// committed must not put that stale record back into the cache afterwards.

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
)

// TestRevokeWinsOverVerifyInFlight: a Verify reads the row, Revoke commits and returns, then
// that Verify caches what it read; the next Verify must still be refused.
func TestRevokeWinsOverVerifyInFlight(t *testing.T) {
	for _, how := range []string{"revoke", "rotate"} {
		t.Run(how, func(t *testing.T) {
			s := newService(t)
			ctx := context.Background()
			plain, k, err := s.Create(ctx, Spec{Name: "tablet", Scopes: []string{ScopeChat}}, "test", "")
			if err != nil {
				t.Fatal(err)
			}
			read, release := make(chan struct{}), make(chan struct{})
			var once sync.Once
			testHookRead = func() {
				once.Do(func() {
					close(read)
					<-release
				})
			}
			t.Cleanup(func() { testHookRead = nil })
			inFlight := make(chan error, 1)
			go func() {
				_, err := s.Verify(ctx, plain)
				inFlight <- err
			}()
			<-read // the row, not yet revoked, is read
			if how == "revoke" {
				err = s.Revoke(ctx, k.ID, "test", "")
			} else {
				_, _, err = s.Rotate(ctx, k.ID, "test", "")
			}
			if err != nil {
				t.Fatal(err)
			}
			close(release) // the verification that started before the revocation finishes
			<-inFlight
			if _, err := s.Verify(ctx, plain); !errors.Is(err, ErrRevoked) {
				t.Errorf("Verify after %s returned: %v, want ErrRevoked", how, err)
			}
			if err := s.Active(ctx, k.ID); !errors.Is(err, ErrRevoked) {
				t.Errorf("Active after %s returned: %v, want ErrRevoked", how, err)
			}
		})
	}
}

// TestRevokeUnderConcurrentVerify: verifiers loop on a key while it is revoked; every
// verification that starts after Revoke returned is refused.
func TestRevokeUnderConcurrentVerify(t *testing.T) {
	s := newService(t)
	ctx := context.Background()
	for round := 0; round < 20; round++ {
		plain, k, err := s.Create(ctx, Spec{Name: "tablet", Scopes: []string{ScopeChat}}, "test", "")
		if err != nil {
			t.Fatal(err)
		}
		var revoked atomic.Bool
		var accepted atomic.Int64
		stop := make(chan struct{})
		var wg sync.WaitGroup
		for range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					select {
					case <-stop:
						return
					default:
					}
					after := revoked.Load()
					if _, err := s.Verify(ctx, plain); err == nil && after {
						accepted.Add(1)
					}
				}
			}()
		}
		if err := s.Revoke(ctx, k.ID, "test", ""); err != nil {
			t.Fatal(err)
		}
		revoked.Store(true)
		for range 200 {
			if _, err := s.Verify(ctx, plain); err == nil {
				accepted.Add(1)
			}
		}
		close(stop)
		wg.Wait()
		if n := accepted.Load(); n > 0 {
			t.Fatalf("round %d: %d verifications accepted the key after Revoke returned", round, n)
		}
	}
}
