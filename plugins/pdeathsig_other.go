//go:build !linux

package plugins

import "os/exec"

// setPdeathsig is a no-op outside Linux: there, a plugin outlives a host
// killed by SIGKILL, and only CleanupClients on orderly exits stops it.
func setPdeathsig(*exec.Cmd) {}

// pdeathsigSupported reports whether plugins die with the host on this OS.
const pdeathsigSupported = false

// setGroup and killGroup are Linux-only: elsewhere only the plugin
// process itself is stopped.
func setGroup(*exec.Cmd, int) {}
func killGroup(int)           {}
