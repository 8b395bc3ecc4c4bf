//go:build linux

package plugins

import (
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// A watchdog is a small process per plugin that outlives the host to clean
// up after it. Pdeathsig reaches only the plugin process itself, so a shell
// wrapper's child (or anything else a plugin forks) would be orphaned by a
// host killed with SIGKILL, and no host code runs then to remove the
// socket directory. The watchdog holds the read end of a pipe whose only
// write end is in the host: whatever way the host dies, the kernel closes
// that end and the watchdog's read returns EOF. It then removes the socket
// directory and SIGKILLs the plugin's process group.
//
// The watchdog leads the process group and the plugin joins it (rather
// than the watchdog being told the plugin's group afterwards): the group's
// id is the watchdog's pid, which cannot be reused while the watchdog runs
// or is an unreaped zombie of the host, so neither the watchdog nor the
// host can ever SIGKILL a stranger's group that happens to get the same
// id. It also covers the handshake, since the watchdog runs before the
// plugin starts.
//
// The watchdog is the host's own executable (/proc/self/exe, which works
// even if the file was replaced since), run with envWatchdog set: the init
// below takes over before main or TestMain.

// The watchdog's inherited descriptors (cmd.ExtraFiles start at 3).
const (
	watchdogLifeFd  = 3 // read end; EOF when the host has gone
	watchdogReadyFd = 4 // write end; "ok" once signals are ignored
)

func init() {
	if dir, ok := os.LookupEnv(envWatchdog); ok {
		os.Exit(runWatchdog(dir))
	}
}

// runWatchdog is the watchdog's whole life; it returns an exit code only
// when it refuses to run (it ends by SIGKILLing its own group otherwise).
func runWatchdog(dir string) int {
	// It kills its whole process group and removes a directory tree: make
	// sure it was started by startWatchdog, not by a stray variable in
	// someone's environment (a shell job is a group leader too, but gets no
	// pipes on fds 3 and 4).
	pid := os.Getpid()
	switch {
	case syscall.Getpgrp() != pid:
		return refuse("not a process group leader")
	case !isPipe(watchdogLifeFd) || !isPipe(watchdogReadyFd):
		return refuse("fds 3 and 4 are not pipes")
	case !filepath.IsAbs(dir) || !strings.HasPrefix(filepath.Base(dir), sockDirPrefix):
		return refuse(fmt.Sprintf("%q is not a plugin socket directory", dir))
	}
	// The plugin's group gets the signals meant for it (a wrapper's
	// `kill 0`, an operator's `kill -TERM -PGID`): the watchdog must
	// outlive them to kill whatever they leave behind. SIGKILL, which
	// it cannot ignore, is what the host uses to stop it.
	signal.Ignore(syscall.SIGHUP, syscall.SIGINT, syscall.SIGQUIT, syscall.SIGTERM, syscall.SIGPIPE,
		syscall.SIGUSR1, syscall.SIGUSR2, syscall.SIGALRM, syscall.SIGTSTP, syscall.SIGTTIN, syscall.SIGTTOU)
	if _, err := syscall.Write(watchdogReadyFd, []byte("ok")); err != nil {
		return 1 // the host gave up waiting; it kills the group itself
	}
	syscall.Close(watchdogReadyFd)
	var b [16]byte
	for {
		n, err := syscall.Read(watchdogLifeFd, b[:])
		if err == syscall.EINTR {
			continue
		}
		if n <= 0 {
			break // EOF: the host is gone or has stopped the plugin
		}
	}
	// The directory first: the kill below takes the watchdog with it.
	os.RemoveAll(dir)
	syscall.Kill(-pid, syscall.SIGKILL)
	return 0
}

func refuse(why string) int {
	fmt.Fprintf(os.Stderr, "%s is set but this process was not started as a grao plugin watchdog (%s); unset it\n", envWatchdog, why)
	return 2
}

func isPipe(fd int) bool {
	var st syscall.Stat_t
	return syscall.Fstat(fd, &st) == nil && st.Mode&syscall.S_IFMT == syscall.S_IFIFO
}

// watchdog is the host's handle on a running watchdog.
type watchdog struct {
	cmd  *exec.Cmd
	life *os.File // the write end; closing it also stops the watchdog
}

// startWatchdog starts the watchdog for a plugin that will use sockDir and
// waits (at most timeout) until it is ready, so that the plugin never runs
// unwatched. Its pid is the process group the plugin must join.
func startWatchdog(sockDir string, timeout time.Duration) (*watchdog, error) {
	lifeR, lifeW, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	readyR, readyW, err := os.Pipe()
	if err != nil {
		lifeR.Close()
		lifeW.Close()
		return nil, err
	}
	// os.Pipe sets close-on-exec, so of these four ends only the two in
	// ExtraFiles reach the watchdog, and none reaches the plugin or any
	// other child: the host alone holds the life pipe's write end, so EOF
	// means that it closed it (stop) or died.
	cmd := &exec.Cmd{
		Path: "/proc/self/exe",
		Args: []string{"grao-plugin-watchdog"}, // what ps shows
		// A bare environment: it keeps the watchdog cheap and quiet in
		// binaries whose other packages do work at init (GRAO_BLAS=gonum
		// stops package kernels, in grao's own binaries, from loading
		// OpenBLAS and its thread pool).
		Env:        []string{envWatchdog + "=" + sockDir, "GOMAXPROCS=1", "GRAO_BLAS=gonum"},
		ExtraFiles: []*os.File{lifeR, readyW},
		// A group of its own for the plugin to join; no Pdeathsig, since
		// its job starts when the host dies. Its stdio is /dev/null: it
		// must not keep a pipe the host's caller waits on open.
		SysProcAttr: &syscall.SysProcAttr{Setpgid: true},
	}
	err = cmd.Start()
	lifeR.Close()
	readyW.Close()
	if err != nil {
		lifeW.Close()
		readyR.Close()
		return nil, err
	}
	w := &watchdog{cmd: cmd, life: lifeW}
	readyR.SetReadDeadline(time.Now().Add(timeout))
	var ok [2]byte
	_, err = io.ReadFull(readyR, ok[:])
	readyR.Close()
	if err == nil && string(ok[:]) != "ok" {
		err = fmt.Errorf("said %q", ok[:])
	}
	if err != nil {
		killGroup(w.pid())
		w.stop()
		return nil, fmt.Errorf("watchdog did not start: %w", err)
	}
	return w, nil
}

// pid is the watchdog's pid, which is also the plugin's process group.
func (w *watchdog) pid() int { return w.cmd.Process.Pid }

// stop ends the watchdog and reaps it. Closing the life pipe makes it kill
// the group and exit if the host has not killed the group already. The
// group's id is free for reuse once this returns: kill the group before.
func (w *watchdog) stop() {
	w.life.Close()
	w.cmd.Wait()
}

// watchdogSupported reports whether plugins started through a wrapper, and
// their socket directories, are cleaned up after a host killed by SIGKILL.
const watchdogSupported = true
