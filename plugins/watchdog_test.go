package plugins

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// gracePeriod bounds every wait for a process or directory to go: generous,
// since the tests share a loaded machine; they poll, so a pass is quick.
const gracePeriod = 10 * time.Second

// leftBehind is what a helper host reported (see runHelperHost).
type leftBehind struct {
	proc   int    // the process the host started (the wrapper, if any)
	dog    int    // its watchdog, 0 if none
	plugin int    // the process serving the plugin
	sock   string // its socket directory
}

// killHelperHost starts a helper host in mode, SIGKILLs it once its plugin
// serves, and returns what the host had started.
func killHelperHost(t *testing.T, mode string) leftBehind {
	t.Helper()
	cmd := exec.Command(os.Args[0])
	// The socket directory goes where the test cleans up, should it leak.
	cmd.Env = append(os.Environ(), envMode+"="+mode, envHostDir+"="+t.TempDir(), "TMPDIR="+t.TempDir())
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(out).ReadString('\n')
	var lb leftBehind
	if err == nil {
		_, err = fmt.Sscanf(line, "PID %d DOG %d SOCK %s PLUGIN %d", &lb.proc, &lb.dog, &lb.sock, &lb.plugin)
	}
	if err != nil {
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatalf("helper host said %q (%v)", line, err)
	}
	// Survivors of a failed test (or of a control experiment) must not
	// outlive it.
	t.Cleanup(func() {
		for _, pid := range []int{lb.plugin, lb.proc, lb.dog} {
			if pid > 0 && !processGone(pid) {
				syscall.Kill(pid, syscall.SIGKILL)
			}
		}
	})
	for _, pid := range []int{lb.proc, lb.plugin} {
		if pid <= 0 || processGone(pid) {
			t.Fatalf("helper host said %q: no such process %d", line, pid)
		}
	}
	if _, err := os.Stat(lb.sock); err != nil {
		t.Fatalf("helper host said %q: %v", line, err)
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
	return lb
}

// waitRemoved reports whether path no longer exists, or stops existing
// within d.
func waitRemoved(path string, d time.Duration) bool {
	for end := time.Now().Add(d); ; time.Sleep(20 * time.Millisecond) {
		if _, err := os.Lstat(path); os.IsNotExist(err) {
			return true
		}
		if time.Now().After(end) {
			return false
		}
	}
}

// checkCleanedUp fails t for every process of lb still running and for
// its socket directory, after waiting for them to go.
func checkCleanedUp(t *testing.T, lb leftBehind) {
	t.Helper()
	for _, p := range []struct {
		what string
		pid  int
	}{{"plugin process", lb.plugin}, {"process the host started", lb.proc}, {"watchdog", lb.dog}} {
		if p.pid > 0 && !waitGone(p.pid, gracePeriod) {
			t.Errorf("the %s %d survived", p.what, p.pid)
		}
	}
	if !waitRemoved(lb.sock, gracePeriod) {
		t.Errorf("socket directory %s survived", lb.sock)
	}
}

func skipWithoutWatchdog(t *testing.T) {
	t.Helper()
	if !watchdogSupported {
		t.Skip("the watchdog is Linux-only")
	}
}

func TestHostKilledLeavesNoPlugin(t *testing.T) {
	skipWithoutWatchdog(t)
	lb := killHelperHost(t, "host")
	if lb.dog == 0 {
		t.Fatal("the plugin ran without a watchdog")
	}
	checkCleanedUp(t, lb)
}

// The wrapper's child, which Pdeathsig does not reach, dies too.
func TestHostKilledLeavesNoWrappedPlugin(t *testing.T) {
	skipWithoutWatchdog(t)
	lb := killHelperHost(t, "host-wrapped")
	if lb.plugin == lb.proc {
		t.Fatal("the shell exec'd the plugin: this test proves nothing here")
	}
	if lb.dog == 0 {
		t.Fatal("the plugin ran without a watchdog")
	}
	checkCleanedUp(t, lb)
}

// The watchdog does its job without Pdeathsig's help.
func TestWatchdogAloneKillsThePlugin(t *testing.T) {
	skipWithoutWatchdog(t)
	checkCleanedUp(t, killHelperHost(t, "host-nopdeathsig"))
}

// The control experiment for the two tests above: with Pdeathsig alone,
// the wrapper dies but its child, the actual plugin, survives, and so does
// the socket directory.
func TestHostKilledWithoutWatchdogLeavesWrappedPlugin(t *testing.T) {
	skipWithoutWatchdog(t)
	lb := killHelperHost(t, "host-wrapped-nowatchdog")
	if !waitGone(lb.proc, gracePeriod) {
		t.Fatalf("the wrapper %d survived despite Pdeathsig", lb.proc)
	}
	if waitGone(lb.plugin, 500*time.Millisecond) {
		t.Fatalf("the wrapper's child %d died without the watchdog: the test above proves nothing here", lb.plugin)
	}
	if _, err := os.Stat(lb.sock); err != nil {
		t.Fatalf("the socket directory went without the watchdog: %v", err)
	}
}

// The control experiment for the direct child: without Pdeathsig or the
// watchdog, the plugin outlives the host.
func TestHostKilledWithoutPdeathsigLeavesOrphan(t *testing.T) {
	skipWithoutWatchdog(t)
	lb := killHelperHost(t, "host-bare")
	if waitGone(lb.plugin, 500*time.Millisecond) {
		t.Fatalf("plugin %d died without Pdeathsig or watchdog: the orphan test proves nothing here", lb.plugin)
	}
}

// An orderly Close stops the watchdog too, and everything in the group.
func TestCloseLeavesNoWatchdog(t *testing.T) {
	skipWithoutWatchdog(t)
	for _, wrapped := range []bool{false, true} {
		t.Run(fmt.Sprintf("wrapped=%v", wrapped), func(t *testing.T) {
			cfg, dir, _ := testConfig(t, "ok")
			if wrapped {
				cfg.Path = filepath.Join(t.TempDir(), "wrapper.sh")
				if err := os.WriteFile(cfg.Path, []byte(wrapperScript), 0o755); err != nil {
					t.Fatal(err)
				}
				cfg.Env = append(cfg.Env, "GRAO_PLUGINS_TEST_BIN="+os.Args[0])
			}
			r := openT(t, cfg)
			inst := r.cur
			if inst.dog == nil {
				t.Fatal("the plugin runs without a watchdog")
			}
			pid, _ := strconv.Atoi(starts(t, dir)[0])
			lb := leftBehind{proc: r.Pid(), dog: inst.dog.pid(), plugin: pid, sock: inst.sockDir}
			if wrapped == (lb.plugin == lb.proc) {
				t.Fatalf("wrapped=%v, but the plugin is pid %d and the host started %d", wrapped, lb.plugin, lb.proc)
			}
			if g, err := syscall.Getpgid(lb.plugin); err != nil || g != lb.dog {
				t.Errorf("the plugin is in process group %d (%v), want the watchdog's, %d", g, err, lb.dog)
			}
			if _, err := r.Score(context.Background(), sampleItems(2)); err != nil {
				t.Fatal(err)
			}
			r.Close()
			if _, err := os.Lstat(lb.sock); !os.IsNotExist(err) {
				t.Errorf("Close left the socket directory %s (%v)", lb.sock, err)
			}
			// Close reaps the watchdog itself: it is gone at once.
			if !processGone(lb.dog) {
				t.Errorf("Close left the watchdog %d", lb.dog)
			}
			checkCleanedUp(t, lb)
		})
	}
}

// Signals meant for the plugin's group, or Ctrl-C, must not leave the
// plugin unwatched. Reading the watchdog's ignored-signal mask proves it
// without waiting for something not to happen.
func TestWatchdogIgnoresTerminatingSignals(t *testing.T) {
	skipWithoutWatchdog(t)
	cfg, _, _ := testConfig(t, "ok")
	r := openT(t, cfg)
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", r.cur.dog.pid()))
	if err != nil {
		t.Fatal(err)
	}
	var ign uint64
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "SigIgn:"); ok {
			ign, err = strconv.ParseUint(strings.TrimSpace(v), 16, 64)
		}
	}
	if err != nil {
		t.Fatal(err)
	}
	for _, sig := range []syscall.Signal{syscall.SIGHUP, syscall.SIGINT, syscall.SIGQUIT, syscall.SIGTERM} {
		if ign&(1<<(sig-1)) == 0 {
			t.Errorf("the watchdog does not ignore %v (SigIgn %x)", sig, ign)
		}
	}
}

// A process that merely has the variable set, without the pipes, must
// neither kill its group nor remove the directory.
func TestWatchdogRefusesStrayVariable(t *testing.T) {
	skipWithoutWatchdog(t)
	dir := filepath.Join(t.TempDir(), sockDirPrefix+"stray")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	for _, leader := range []bool{false, true} {
		ctx, cancel := context.WithTimeout(context.Background(), gracePeriod)
		cmd := exec.CommandContext(ctx, os.Args[0])
		cmd.Env = append(os.Environ(), envWatchdog+"="+dir)
		// As a group leader, a watchdog that failed to refuse would kill
		// only itself.
		cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: leader}
		out, err := cmd.CombinedOutput()
		cancel()
		if code := cmd.ProcessState.ExitCode(); code != 2 || !strings.Contains(string(out), "not started as a grao plugin watchdog") {
			t.Errorf("group leader %v: exit code %d (%v), output %q; want 2 and a refusal", leader, code, err, out)
		}
		if _, err := os.Stat(dir); err != nil {
			t.Fatalf("group leader %v: %v", leader, err)
		}
	}
}

// BenchmarkWatchdog measures what the watchdog adds to each plugin start
// and stop, and its private memory (anon-rss-kB; its code pages are the
// host's, shared through the page cache).
//
//	go test -run '^$' -bench Watchdog -benchtime 50x ./plugins
func BenchmarkWatchdog(b *testing.B) {
	if !watchdogSupported {
		b.Skip("the watchdog is Linux-only")
	}
	dir, err := os.MkdirTemp(b.TempDir(), sockDirPrefix)
	if err != nil {
		b.Fatal(err)
	}
	var rss float64
	for b.Loop() {
		w, err := startWatchdog(dir, gracePeriod)
		if err != nil {
			b.Fatal(err)
		}
		st, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", w.pid()))
		if err != nil {
			b.Fatal(err)
		}
		for _, l := range strings.Split(string(st), "\n") {
			if v, ok := strings.CutPrefix(l, "RssAnon:"); ok {
				kb, _ := strconv.Atoi(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")))
				rss = max(rss, float64(kb))
			}
		}
		killGroup(w.pid())
		w.stop()
	}
	b.ReportMetric(rss, "anon-rss-kB")
}
