package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestCalibrateBadInput(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"tasks", "calibrate", "skills"}, "--checkpoint is required"},
		{[]string{"tasks", "calibrate", "arith", "--checkpoint", "x", "--band", "0.2,0.6"}, "skills task only"},
		{[]string{"tasks", "calibrate", "skills", "--checkpoint", "x", "--band", "0.6,0.2"}, "lo ≤ hi"},
		{[]string{"tasks", "calibrate", "skills", "--checkpoint", "x", "--band", "0.2"}, "want LO,HI"},
		{[]string{"tasks", "calibrate", "skills", "--checkpoint", "x", "--kinds", "nope"}, `unknown kind "nope"`},
		{[]string{"tasks", "calibrate", "skills", "--checkpoint", "x", "--levels", "repeat=x"}, "not kind=level"},
		{[]string{"tasks", "calibrate", "skills", "--checkpoint", "x", "--samples", "0"}, "samples must be ≥ 1"},
		{[]string{"tasks", "calibrate", "skills", "--checkpoint", filepath.Join(t.TempDir(), "none")}, "--checkpoint"},
		{[]string{"tasks", "calibrate", "missing.toml"}, "missing.toml"},
	} {
		code, _, se := bench(t, c.args...)
		if code != 2 || !strings.Contains(se, c.want) {
			t.Errorf("bench %s: exit %d, stderr %q; want 2 and %q", strings.Join(c.args, " "), code, se, c.want)
		}
	}
}

// A tiny base model calibrates per kind, places levels in a band, and a
// sweep file calibrates its own (pre-trained) base.
func TestCalibrateCommand(t *testing.T) {
	if testing.Short() {
		t.Skip("-short")
	}
	dir := t.TempDir()
	base := filepath.Join(dir, "base")
	if code, _, se := bench(t, "pretrain", "--task", "skills", "--model", "tiny", "--steps", "5", "--batch", "4", "--out", base); code != 0 {
		t.Fatalf("pretrain: %s", se)
	}
	common := []string{"--checkpoint", base, "--kinds", "first-letter,capital", "--prompts", "3", "--samples", "8", "--max-new", "4"}
	code, so, se := bench(t, append([]string{"tasks", "calibrate", "skills", "--json"}, common...)...)
	if code != 0 {
		t.Fatalf("calibrate: exit %d %s", code, se)
	}
	var tab struct {
		Kinds []struct {
			Kind    string  `json:"kind"`
			Prompts int     `json:"prompts"`
			Pass    float64 `json:"pass_at_1"`
			Groups  []struct {
				G int `json:"g"`
			} `json:"groups"`
		} `json:"kinds"`
	}
	if err := json.Unmarshal([]byte(so), &tab); err != nil || len(tab.Kinds) != 2 || tab.Kinds[0].Prompts != 3 || len(tab.Kinds[0].Groups) != 2 {
		t.Fatalf("table %s (%v)", so, err)
	}
	if code, _, se := bench(t, "tasks", "calibrate", "skills", "--checkpoint", base, "--kinds", "repeat", "--all-levels", "--max-new", "40"); code != 2 || !strings.Contains(se, "no room for 40 new tokens") {
		t.Errorf("prompts too long for the context: exit %d %s", code, se)
	}
	code, so, se = bench(t, append([]string{"tasks", "calibrate", "skills", "--band", "0.2,0.6"}, common...)...)
	if code != 0 || !strings.Contains(so, "placement in [0.2, 0.6]: first-letter=") || strings.Count(so, "| first-letter |") != 8 {
		t.Fatalf("band: exit %d\n%s\n%s", code, so, se)
	}
	sw := filepath.Join(dir, "s.toml")
	os.WriteFile(sw, []byte(`name = "cal"
seeds = [1]
[model]
preset = "tiny"
[task]
name = "skills"
kinds = ["first-letter"]
levels = { first-letter = 1 }
[pretrain]
steps = 3
batch = 2
[train]
max_new_tokens = 8
[eval]
max_new_tokens = 8
[calibrate]
prompts = 2
samples = 4
[[algorithm]]
name = "grpo"
g = 2
`), 0o644)
	code, so, se = bench(t, "tasks", "calibrate", sw, "--out", filepath.Join(dir, "runs"))
	if code != 0 || !strings.Contains(so, "## base ") || !strings.Contains(so, "| first-letter | explore | 1 (3 letters) | 2 |") {
		t.Fatalf("sweep: exit %d\n%s\n%s", code, so, se)
	}
	// bench run reuses the base model and the calibration.
	code, _, se = bench(t, "run", sw, "--out", filepath.Join(dir, "runs"))
	if code != 0 || strings.Contains(se, "pre-training") {
		t.Errorf("run after calibrate: exit %d\n%s", code, se)
	}
}
