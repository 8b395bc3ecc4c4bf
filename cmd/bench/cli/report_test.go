package cli

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Tests of `bench report` through Run(): exit codes, DIR vs file, flags on
// both sides of the path, --out.
func TestReportCommand(t *testing.T) {
	paper := filepath.Join("..", "..", "..", "experiments", "report", "testdata", "paper_results.csv")
	dir := t.TempDir()
	data, err := os.ReadFile(paper)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "results.csv"), data, 0o644); err != nil {
		t.Fatal(err)
	}
	bad := filepath.Join(dir, "bad.csv")
	os.WriteFile(bad, []byte("trial,task,model,algorithm,seed,metric,value\n1,t,m,a,1,RAS,oops\n"), 0o644)
	out := filepath.Join(dir, "out.tex")
	for _, tc := range []struct {
		name   string
		args   []string
		code   int
		stdout string // substring
		stderr string // substring
	}{
		{"dir", []string{"report", dir}, 0, "| SFT | +57.73% |", ""},
		{"flags after path", []string{"report", paper, "--format", "csv", "--baseline", "sft", "--baseline", "dpo,ppo"}, 0, "headline,,,RAS,grao,ppo,4,", ""},
		{"out file", []string{"report", "--format", "tex", dir, "--out", out}, 0, "", ""},
		{"bad row", []string{"report", bad}, 2, "", "bad.csv:2: value: "},
		{"missing file", []string{"report", filepath.Join(dir, "nope.csv")}, 2, "", "nope.csv"},
		{"unknown baseline", []string{"report", dir, "--baseline", "rlhf"}, 2, "", `baseline "rlhf"`},
		{"unknown target", []string{"report", dir, "--target", "rlhf"}, 2, "", `--target "rlhf"`},
		{"unknown metric", []string{"report", dir, "--metric", "BLEU"}, 2, "", `--metric "BLEU"`},
		{"bad format", []string{"report", dir, "--format", "html"}, 2, "", "unknown format"},
		{"no path", []string{"report"}, 2, "", "exactly one"},
		{"two paths", []string{"report", dir, dir}, 2, "", "exactly one"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var so, se bytes.Buffer
			code := Run(tc.args, &so, &se)
			if code != tc.code || !strings.Contains(so.String(), tc.stdout) || !strings.Contains(se.String(), tc.stderr) {
				t.Errorf("exit %d (want %d)\nstdout: %.300s\nstderr: %s", code, tc.code, so.String(), se.String())
			}
		})
	}
	tex, err := os.ReadFile(out)
	if err != nil || !strings.Contains(string(tex), `\toprule`) || !strings.Contains(string(tex), `+57.73\%`) {
		t.Errorf("--out file: %v\n%s", err, tex)
	}
}

// In a sweep directory, the sweep's own [report] settings apply unless a
// flag overrides them, and a sweep.toml that no longer validates is noted.
func TestReportUsesSweepSettings(t *testing.T) {
	paper := filepath.Join("..", "..", "..", "experiments", "report", "testdata", "paper_results.csv")
	dir := t.TempDir()
	data, _ := os.ReadFile(paper)
	os.WriteFile(filepath.Join(dir, "results.csv"), data, 0o644)
	os.WriteFile(filepath.Join(dir, "sweep.toml"), []byte(`name = "p"
seeds = [1]
[task]
name = "arith"
[train]
max_new_tokens = 16
[eval]
max_new_tokens = 16
[[algorithm]]
name = "ppo"
[[algorithm]]
name = "sft"
[report]
target = "ppo"
baselines = ["sft"]
`), 0o644)
	code, so, se := bench(t, "report", dir)
	if code != 0 || !strings.Contains(so, "## Headline: PPO vs baselines on RAS") || !strings.Contains(so, "| SFT |") || strings.Contains(so, "| DPO | +") {
		t.Errorf("sweep settings: exit %d\n%s\n%s", code, so, se)
	}
	if code, so, _ := bench(t, "report", dir, "--target", "grao"); code != 0 || !strings.Contains(so, "## Headline: GRAO vs baselines") {
		t.Errorf("--target overrides the sweep: %s", so)
	}
	os.WriteFile(filepath.Join(dir, "sweep.toml"), []byte("name = 3\n"), 0o644)
	if code, so, _ := bench(t, "report", dir); code != 0 || !strings.Contains(so, "no longer validates") {
		t.Errorf("stale sweep.toml: exit %d\n%s", code, so)
	}
}
