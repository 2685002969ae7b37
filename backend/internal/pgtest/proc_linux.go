package pgtest

import "syscall"

// sysProcAttr runs a PostgreSQL program as the cluster's owner (if given), and has the server
// killed if the test process dies before stopping it.
func sysProcAttr(o *owner) *syscall.SysProcAttr {
	a := &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL, Setpgid: true}
	if o != nil {
		a.Credential = &syscall.Credential{Uid: uint32(o.uid), Gid: uint32(o.gid)}
	}
	return a
}
