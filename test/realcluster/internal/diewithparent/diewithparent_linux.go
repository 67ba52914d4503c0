// Package diewithparent ends a control-plane process when the launcher that
// started it dies, even by SIGKILL (a CTest timeout), so no etcd or
// apiserver outlives its test. The launcher names itself in
// REALCLUSTER_PARENT_PID; without it (a manual run) nothing changes.
package diewithparent

import (
	"os"
	"strconv"
	"syscall"
)

func init() {
	parent, err := strconv.Atoi(os.Getenv("REALCLUSTER_PARENT_PID"))
	if err != nil {
		return
	}
	// PR_SET_PDEATHSIG: the kernel kills us when the parent exits. SIGKILL, not
	// SIGTERM: the launcher stops components gracefully itself; when it could
	// not, their siblings die at once too, and an apiserver whose etcd is gone
	// does not finish a graceful shutdown.
	if _, _, errno := syscall.RawSyscall(syscall.SYS_PRCTL, syscall.PR_SET_PDEATHSIG, uintptr(syscall.SIGKILL), 0); errno != 0 {
		return
	}
	// The parent may have died before the prctl: then nobody would signal us.
	if os.Getppid() != parent {
		os.Exit(1)
	}
}
