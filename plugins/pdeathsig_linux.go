//go:build linux

package plugins

import (
	"os/exec"
	"syscall"
)

// setPdeathsig asks the kernel to SIGKILL the plugin when the host dies, even
// by SIGKILL, which no cleanup code can catch (go-plugin alone leaves such
// plugins running). Caveat: Linux ties the signal to the thread that forked,
// not the process; the Go runtime only retires threads locked with
// runtime.LockOSThread, so callers must not start plugins from such a
// goroutine.
func setPdeathsig(cmd *exec.Cmd) {
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Pdeathsig = syscall.SIGKILL
}

// setGroup puts the plugin in a process group without the host, so that
// killing the group reaches what the plugin started too (a shell wrapper's
// child holding the plugin's stdout would otherwise keep the host waiting),
// and the terminal's Ctrl-C goes to the host only, which stops its plugins
// itself. The group is pgid (the watchdog's), or 0 for one the plugin leads.
func setGroup(cmd *exec.Cmd, pgid int) {
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Setpgid = true
	cmd.SysProcAttr.Pgid = pgid
}

// killGroup SIGKILLs process group pgid (nothing when pgid <= 0, which
// would mean the caller's own group or every process).
func killGroup(pgid int) {
	if pgid > 0 {
		syscall.Kill(-pgid, syscall.SIGKILL)
	}
}

// pdeathsigSupported reports whether plugins die with the host on this OS.
const pdeathsigSupported = true
