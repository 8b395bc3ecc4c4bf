package runner_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"testing"

	"github.com/grao-lab/grao/experiments/runner"
	"github.com/grao-lab/grao/experiments/sweep"
)

func zzRSS() float64 {
	b, _ := os.ReadFile("/proc/self/statm")
	var size, res int64
	fmt.Sscan(string(b), &size, &res)
	return float64(res*int64(os.Getpagesize())) / (1 << 20)
}

func TestZZLeak(t *testing.T) {
	preset := os.Getenv("ZZ_PRESET")
	if preset == "" {
		t.Skip()
	}
	steps := os.Getenv("ZZ_STEPS")
	dir := t.TempDir()
	os.Setenv(runner.EnvBaseCache, filepath.Join(dir, "bc"))
	src := `name = "leak"
seeds = [1]
[model]
preset = "` + preset + `"
[task]
name = "arith"
digits = 1
train_size = 200
eval_size = 16
[pretrain]
steps = 5
[train]
steps = ` + steps + `
prompts = 2
max_new_tokens = 16
[eval]
prompts = 4
max_new_tokens = 16
[[algorithm]]
name = "grpo"
g = 4
`
	path := filepath.Join(dir, "s.toml")
	os.WriteFile(path, []byte(src), 0o644)
	sw, err := sweep.ParseFile(path)
	if err != nil {
		t.Fatal(err)
	}
	sw.Resolve()
	trials, err := sw.Expand()
	if err != nil {
		t.Fatal(err)
	}
	var ms runtime.MemStats
	for i := 0; i < 6; i++ {
		_, err := runner.Run(context.Background(), sw, trials, runner.Options{SweepPath: path, Out: filepath.Join(dir, fmt.Sprint("out", i)), Workers: 1})
		if err != nil {
			t.Fatal(err)
		}
		runtime.GC()
		debug.FreeOSMemory()
		runtime.ReadMemStats(&ms)
		t.Logf("trial %d: HeapInuse %.1f MiB HeapObjects %d Sys %.1f MiB RSS %.1f MiB", i, float64(ms.HeapInuse)/(1<<20), ms.HeapObjects, float64(ms.Sys)/(1<<20), zzRSS())
		if i == 1 || i == 5 {
			f, _ := os.Create(fmt.Sprintf("/tmp/leak/heap%d.pprof", i))
			pprof.WriteHeapProfile(f)
			f.Close()
		}
	}
}
