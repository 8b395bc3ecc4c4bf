package runner_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/grao-lab/grao/experiments/runner"
	"github.com/grao-lab/grao/experiments/sweep"
)

// parseSweep writes src to dir/s.toml and returns it parsed, resolved and
// expanded, with its path.
func parseSweep(t *testing.T, dir, src string) (*sweep.Sweep, []sweep.Trial, string) {
	t.Helper()
	path := filepath.Join(dir, "s.toml")
	if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	sw, err := sweep.ParseFile(path)
	if err != nil {
		t.Fatal(err)
	}
	sw.Resolve()
	trials, err := sw.Expand()
	if err != nil {
		t.Fatal(err)
	}
	return sw, trials, path
}

// Two sweeps started together on one shared base cache pre-train their
// base model once: the second waits for the first and loads what it saved.
// A second run of a directory in use is refused at once.
func TestConcurrentRunsShareOneBase(t *testing.T) {
	if testing.Short() {
		t.Skip("-short")
	}
	t.Setenv(runner.EnvBaseCache, t.TempDir())
	src := strings.Split(sweepHead, "[reward]")[0]
	var logs [2]runner.LockedBuffer
	var wg sync.WaitGroup
	errs := make([]error, 2)
	dirs := [2]string{t.TempDir(), t.TempDir()}
	for i := range 2 {
		sw, trials, path := parseSweep(t, dirs[i], src)
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = runner.Run(context.Background(), sw, trials, runner.Options{SweepPath: path, Out: filepath.Join(dirs[i], "out"), Workers: 1, Log: &logs[i]})
		}()
	}
	wg.Wait()
	builds := 0
	for i := range 2 {
		if errs[i] != nil {
			t.Fatalf("run %d: %v\n%s", i, errs[i], logs[i].String())
		}
		builds += strings.Count(logs[i].String(), ": pre-training ")
	}
	if builds != 1 {
		t.Errorf("the base model was pre-trained %d times, want once:\n%s\n---\n%s", builds, logs[0].String(), logs[1].String())
	}
	a, _ := os.ReadFile(filepath.Join(dirs[0], "out", "results.csv"))
	b, _ := os.ReadFile(filepath.Join(dirs[1], "out", "results.csv"))
	if len(a) == 0 || !bytes.Equal(a, b) {
		t.Errorf("the two runs' results differ:\n%s\n%s", a, b)
	}

	// A run directory in use by another run is refused, naming the holder.
	sw, trials, path := parseSweep(t, dirs[0], src)
	out := filepath.Join(dirs[0], "busy")
	started, release, done := make(chan struct{}), make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		runner.Run(context.Background(), sw, trials, runner.Options{SweepPath: path, Out: out, Workers: 1,
			Log: writerFunc(func(p []byte) {
				if strings.Contains(string(p), "start") {
					select {
					case <-started:
					default:
						close(started)
						<-release
					}
				}
			})})
	}()
	<-started
	_, err := runner.Run(context.Background(), sw, trials, runner.Options{SweepPath: path, Out: out, Workers: 1, Resume: true})
	close(release)
	<-done
	if !errors.Is(err, runner.ErrLocked) || !strings.Contains(err.Error(), "process") {
		t.Errorf("second run of a busy directory: err %v, want ErrLocked naming the holder", err)
	}
}

type writerFunc func([]byte)

func (f writerFunc) Write(p []byte) (int, error) { f(p); return len(p), nil }
