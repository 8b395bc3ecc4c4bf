package runner_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/grao-lab/grao/core/model"
	"github.com/grao-lab/grao/experiments/runner"
	"github.com/grao-lab/grao/experiments/sweep"
)

// Every shipped sweep runs end to end, shrunk to a smoke test (one seed, a
// few pre-training and training steps, a few eval prompts): its keys, its
// [select] phase, its calibration and its report all work, in seconds.
func TestPresetsSmoke(t *testing.T) {
	if testing.Short() {
		t.Skip("-short")
	}
	files, err := filepath.Glob("../*.toml")
	if err != nil || len(files) < 5 {
		t.Fatalf("presets %v (%v)", files, err)
	}
	medium, err := model.Preset("medium")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		t.Run(strings.TrimSuffix(filepath.Base(f), ".toml"), func(t *testing.T) {
			sw, err := sweep.ParseFile(f)
			if err != nil {
				t.Fatal(err)
			}
			sw.Seeds = sw.Seeds[:1]
			// Sweeps for GPU-sized models smoke on small: on two cores the
			// size alone takes minutes, and the GPU check runs the real one.
			if c, err := model.Preset(sw.Model.Preset); err == nil && c.NumParams() > medium.NumParams() {
				sw.Model.Preset = "small"
			}
			sw.Pretrain.Steps, sw.Pretrain.Batch = 2, 2
			sw.Train.Steps, sw.Train.Prompts = 2, 2
			sw.Eval.Prompts = 4
			sw.Calibrate.Prompts, sw.Calibrate.Samples = 2, 4
			if len(sw.Select.Seeds) > 1 {
				sw.Select.Seeds = sw.Select.Seeds[:1]
			}
			sw.Workers = 2
			out := filepath.Join(t.TempDir(), "out")
			sum, err := runner.RunSweep(context.Background(), sw, runner.Options{SweepPath: f, Out: out})
			if err != nil {
				t.Fatal(err)
			}
			if sum.Failed != 0 || sum.Ran == 0 || sum.Ran != sum.Total {
				t.Errorf("summary %+v", sum)
				mans, _ := filepath.Glob(filepath.Join(out, "runs", "*", "manifest.json"))
				for _, m := range mans {
					if b, err := os.ReadFile(m); err == nil && strings.Contains(string(b), `"status": "failed"`) {
						var man runner.Manifest
						json.Unmarshal(b, &man)
						t.Errorf("%s: %s", man.Trial, man.Error)
					}
				}
			}
		})
	}
}
