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

// setGroup makes the plugin lead a process group of its own, so that
// killing it reaches what it started too (a shell wrapper's child holding
// the plugin's stdout would otherwise keep the host waiting), and the
// terminal's Ctrl-C goes to the host only, which stops its plugins itself.
func setGroup(cmd *exec.Cmd) {
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Setpgid = true
}

// killGroup SIGKILLs the process group the plugin leads.
func killGroup(cmd *exec.Cmd) {
	if cmd.Process != nil {
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	}
}

// pdeathsigSupported reports whether plugins die with the host on this OS.
const pdeathsigSupported = true
