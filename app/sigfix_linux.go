//go:build desktop && linux && cgo

package app

// WebKit's JavaScript engine installs its own signal handlers without SA_ONSTACK. Go runs its
// signal handlers on an alternate stack and, finding a handler without the flag, aborts the
// process ("non-Go code set up signal handler without SA_ONSTACK flag") on the next signal:
// a nil dereference that net/http would otherwise recover then kills the appliance. Once the
// web view is up we add SA_ONSTACK back to the handlers of the signals Go uses, keeping the
// handlers themselves (WebKit chains to Go's for signals it does not own).

/*
#include <signal.h>
#include <string.h>

static int vb_fix_onstack(int sig) {
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	if (sigaction(sig, NULL, &sa) != 0) return -1;
	if (sa.sa_handler == SIG_DFL || sa.sa_handler == SIG_IGN) return 0;
	if (sa.sa_flags & SA_ONSTACK) return 0;
	sa.sa_flags |= SA_ONSTACK;
	if (sigaction(sig, &sa, NULL) != 0) return -1;
	return 1;
}
*/
import "C"

import "log/slog"

// fixSignalStacks re-applies SA_ONSTACK; it returns how many handlers it changed.
func fixSignalStacks() int {
	changed := 0
	for _, sig := range []C.int{C.SIGSEGV, C.SIGBUS, C.SIGFPE, C.SIGABRT, C.SIGCHLD, C.SIGINT, C.SIGTERM, C.SIGUSR1, C.SIGUSR2, C.SIGPIPE, C.SIGILL, C.SIGTRAP, C.SIGURG} {
		switch C.vb_fix_onstack(sig) {
		case 1:
			changed++
		case -1:
			slog.Warn("signal stack guard: sigaction failed", "signal", int(sig))
		}
	}
	return changed
}
