//go:build !linux

package plugins

import "time"

// watchdog is Linux-only (see watchdog_linux.go): elsewhere a plugin's
// children and its socket directory outlive a host killed by SIGKILL.
type watchdog struct{}

func startWatchdog(string, time.Duration) (*watchdog, error) { return nil, nil }
func (*watchdog) pid() int                                   { return 0 }
func (*watchdog) stop()                                      {}

const watchdogSupported = false
