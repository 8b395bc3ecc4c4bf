package plots

import (
	"bytes"
	"errors"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// miniSweep writes a small sweep directory from file contents.
func miniSweep(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for p, s := range files {
		full := filepath.Join(dir, p)
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

const okPlan = `{"sweep":"mini","trials":[{"id":"a1","label":"grao","algorithm":"grao","seed":1,"varying":{},"base_key":"k"}]}`

func TestLoadErrors(t *testing.T) {
	tests := []struct {
		name  string
		files map[string]string
		want  []string // substrings of the error
	}{
		{"plan syntax", map[string]string{"plan.json": "{\n\"trials\": [\n{\"id\": }\n]}"}, []string{"plan.json:3", "invalid JSON"}},
		{"plan seed type", map[string]string{"plan.json": `{"trials":[{"id":"a","seed":"x"}]}`}, []string{"plan.json", "seed"}},
		{"plan duplicate id", map[string]string{"plan.json": `{"trials":[{"id":"a"},{"id":"a"}]}`}, []string{"plan.json", `trials[1].id`, "duplicate"}},
		{"plan missing id", map[string]string{"plan.json": `{"trials":[{"label":"grao"}]}`}, []string{"trials[0].id", "missing"}},
		{"metrics bad line", map[string]string{"plan.json": okPlan,
			"runs/a1/metrics.jsonl": "{\"step\":1,\"loss\":0.5}\n{oops}\n{\"step\":2,\"loss\":0.4}\n"}, []string{"metrics.jsonl:2", "not a JSON object"}},
		{"metrics no step", map[string]string{"plan.json": okPlan,
			"runs/a1/metrics.jsonl": "{\"loss\":0.5}\n"}, []string{"metrics.jsonl:1", "metrics.jsonl:1: step: ", "missing step"}},
		{"metrics negative step", map[string]string{"plan.json": okPlan,
			"runs/a1/metrics.jsonl": "{\"step\":-3,\"loss\":0.5}\n"}, []string{"metrics.jsonl:1", "negative step"}},
		{"metrics loss type", map[string]string{"plan.json": okPlan,
			"runs/a1/metrics.jsonl": "{\"step\":1,\"loss\":\"high\"}\n"}, []string{"metrics.jsonl:1", ": loss: "}},
		{"metrics neither", map[string]string{"plan.json": okPlan,
			"runs/a1/metrics.jsonl": "{\"step\":1}\n"}, []string{"metrics.jsonl:1", "needs loss"}},
		{"eval type", map[string]string{"plan.json": okPlan,
			"runs/a1/eval.json": "{\n \"trial\": \"a1\",\n \"rewards\": [1, \"x\"]\n}"}, []string{"eval.json:3", "rewards"}},
		{"eval wrong trial", map[string]string{"plan.json": okPlan,
			"runs/a1/eval.json": `{"trial":"zz"}`}, []string{"eval.json", "eval.json: trial: ", "does not match"}},
		{"results.csv", map[string]string{"results.csv": "trial,task,model,algorithm,seed,metric,value\na,t,m,grao,1,RAS,high\n"}, []string{"results.csv:2", "results.csv:2: value: "}},
		{"config.toml", map[string]string{"plan.json": okPlan, "runs/a1/config.toml": "[task\nname = 1\n"}, []string{"config.toml:", "table name"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := miniSweep(t, tc.files)
			_, _, err := All(dir, DefaultOptions())
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("want *ParseError, got %T %v", err, err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
		})
	}
}

func TestNotSweep(t *testing.T) {
	for _, dir := range []string{t.TempDir(), filepath.Join(t.TempDir(), "missing")} {
		_, _, err := All(dir, DefaultOptions())
		var ns *NotSweepError
		if !errors.As(err, &ns) {
			t.Errorf("%s: want *NotSweepError, got %v", dir, err)
		}
	}
}

func TestOptionErrors(t *testing.T) {
	for _, o := range []Options{{Formats: []string{"gif"}}, {DPI: 5}, {Resamples: 3}} {
		_, _, err := All(synDir, o)
		var oe *OptionError
		if !errors.As(err, &oe) {
			t.Errorf("%+v: want *OptionError, got %v", o, err)
		}
	}
}

// TestSkipsWithNotes: absent data skip figures with a note, never an error.
func TestSkipsWithNotes(t *testing.T) {
	// Only a results.csv (e.g. hand-written): no curves, no loss, no boxes,
	// but the improvement bars.
	dir := miniSweep(t, map[string]string{"results.csv": "trial,task,model,algorithm,seed,metric,value\n" +
		"g1,hh,m,grao,1,RAS,0.6\ng2,hh,m,grao,2,RAS,0.62\ng3,hh,m,grao,3,RAS,0.64\n" +
		"p1,hh,m,ppo,1,RAS,0.5\np2,hh,m,ppo,2,RAS,0.55\np3,hh,m,ppo,3,RAS,0.52\n"})
	o := DefaultOptions()
	o.Formats = []string{"svg"}
	figs, notes, err := All(dir, o)
	if err != nil {
		t.Fatal(err)
	}
	if len(figs) != 1 || figs[0].Name != "improvement_ras" {
		t.Fatalf("want only improvement_ras, got %+v", figs)
	}
	for _, want := range []string{"dynamics_reward_hh_m", "loss_grao_hh_m", "ablation_reward_hh_m", "ablation_final", "sensitivity_ras_hh_m", "rewards_hh_m", "scores_hh_m"} {
		found := false
		for _, n := range notes {
			found = found || n.Figure == want
		}
		if !found {
			t.Errorf("no note for skipped %s; notes: %v", want, notes)
		}
	}
	if md := MarkdownLinks(dir); !strings.Contains(md, "(figures/improvement_ras.svg)") {
		t.Errorf("MarkdownLinks lacks the SVG link:\n%s", md)
	}
}

// TestUnfinishedTrial: a last line without newline that does not parse is
// a write in progress; task and model come from config.toml.
func TestUnfinishedTrial(t *testing.T) {
	dir := miniSweep(t, map[string]string{
		"plan.json":             okPlan,
		"runs/a1/config.toml":   "[task]\nname = \"arith\"\n[model]\npreset = \"tiny\"\n",
		"runs/a1/metrics.jsonl": "{\"step\":0,\"eval\":{\"reward\":-0.5}}\n{\"step\":1,\"loss\":0.5,\"components\":{\"exploration\":0.1,\"imitation\":0.3,\"regulariser\":0.1}}\n{\"step\":2,\"loss\":0.4,\"components\":{\"exploration\":0.1,\"imitation\":0.2,\"regulariser\":0.1}}\n{\"step\":3,\"lo",
	})
	o := DefaultOptions()
	o.Formats = []string{"svg"}
	figs, notes, err := All(dir, o)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range figs {
		names = append(names, f.Name)
	}
	if !strings.Contains(strings.Join(names, " "), "loss_grao_arith_tiny") {
		t.Errorf("want the loss figure of arith/tiny from config.toml, got %v", names)
	}
	found := false
	for _, n := range notes {
		found = found || strings.Contains(n.Reason, "unfinished last line")
	}
	if !found {
		t.Errorf("no note about the unfinished line: %v", notes)
	}
}

func TestDisplayPicksGridCentre(t *testing.T) {
	var cfs []*config
	for _, b := range []string{"0.7", "0.3", "0.5", "0.1"} { // even count: lower median 0.3
		for _, l := range []string{"0.6", "0.9", "0.3"} {
			cfs = append(cfs, &config{Label: "grao", Params: map[string]string{"algorithm.grao.beta": b, "algorithm.grao.lambda": l, "model.preset": "tiny"}})
		}
	}
	cf, note := display(cfs)
	if cf.Params["algorithm.grao.beta"] != "0.3" || cf.Params["algorithm.grao.lambda"] != "0.6" {
		t.Errorf("picked %v", cf.Params)
	}
	if !strings.Contains(note, "beta=0.3, lambda=0.6") || strings.Contains(note, "preset") {
		t.Errorf("note %q", note)
	}
	if cf, note := display(cfs[:1]); cf != cfs[0] || note != "" {
		t.Errorf("single config: %v %q", cf, note)
	}
}

func TestIntervals(t *testing.T) {
	xs := []float64{1, 2, 3, 4}
	lo, hi, ok := interval(xs, CIStudentT, 0, nil)
	// mean 2.5, s = 1.290994, t(0.975, 3) = 3.182446 ⇒ ±2.054260
	if !ok || math.Abs(lo-0.445740) > 1e-5 || math.Abs(hi-4.554260) > 1e-5 {
		t.Errorf("t interval = [%g, %g]", lo, hi)
	}
	if _, _, ok := interval([]float64{1}, CIStudentT, 0, nil); ok {
		t.Error("one value has no interval")
	}
	blo, bhi, ok := interval(xs, CIBootstrap, 2000, keyedRNG(1, "x"))
	if !ok || blo < 1 || bhi > 4 || blo >= 2.5 || bhi <= 2.5 {
		t.Errorf("bootstrap interval = [%g, %g]", blo, bhi)
	}
	blo2, bhi2, _ := interval(xs, CIBootstrap, 2000, keyedRNG(1, "x"))
	if blo != blo2 || bhi != bhi2 {
		t.Error("bootstrap not deterministic for a fixed seed")
	}
}

func TestFieller(t *testing.T) {
	// Paired, b constant: Var(b) = 0 ⇒ the interval is the t-interval of
	// mean(a) divided by mean(b).
	a, b := []float64{1, 2, 3, 4}, []float64{2, 2, 2, 2}
	lo, hi, ok := fiellerCI(a, b, true)
	if !ok || math.Abs(lo-0.445740/2) > 1e-5 || math.Abs(hi-4.554260/2) > 1e-5 {
		t.Errorf("fieller = [%g, %g] %v", lo, hi, ok)
	}
	// Baseline indistinguishable from zero: unbounded.
	if _, _, ok := fiellerCI([]float64{1, 1.1, 0.9}, []float64{-0.1, 0.1, 0.05}, true); ok {
		t.Error("want unbounded interval for a baseline mean near 0")
	}
	// The interval contains the point estimate.
	a, b = []float64{0.6, 0.62, 0.64}, []float64{0.5, 0.55, 0.52}
	lo, hi, ok = fiellerCI(a, b, true)
	r := mean(a) / mean(b)
	if !ok || lo > r || hi < r {
		t.Errorf("[%g, %g] excludes %g", lo, hi, r)
	}
}

func TestNiceTicks(t *testing.T) {
	tests := []struct {
		lo, hi float64
		want   []string
	}{
		{0, 100, []string{"0", "20", "40", "60", "80", "100"}},
		{-0.7, 0.6, []string{"-0.5", "0.0", "0.5"}},
		{0.26, 0.47, []string{"0.30", "0.35", "0.40", "0.45"}},
		{-50, 800, []string{"0", "200", "400", "600", "800"}},
	}
	for _, tc := range tests {
		var got []string
		for _, tk := range (niceTicks{}).Ticks(tc.lo, tc.hi) {
			if tk.Label != "" {
				got = append(got, tk.Label)
			}
		}
		if strings.Join(got, " ") != strings.Join(tc.want, " ") {
			t.Errorf("ticks(%g, %g) = %v, want %v", tc.lo, tc.hi, got, tc.want)
		}
	}
}

func TestPHYs(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("testdata", "golden", "improvement_ras.png"))
	if err != nil {
		t.Skip(err)
	}
	// The golden PNG already carries pHYs (100 dpi = 3937 px/m); decoding
	// must still work and the chunk must say 3937.
	if _, err := png.Decode(bytes.NewReader(b)); err != nil {
		t.Fatal(err)
	}
	i := bytes.Index(b, []byte("pHYs"))
	if i < 0 {
		t.Fatal("no pHYs")
	}
	ppm := uint32(b[i+4])<<24 | uint32(b[i+5])<<16 | uint32(b[i+6])<<8 | uint32(b[i+7])
	if ppm != 3937 {
		t.Errorf("pHYs = %d px/m, want 3937", ppm)
	}
}

// FuzzParseMetricsLine: arbitrary lines never panic, and an accepted line
// has a non-negative step and is exactly one of training or evaluation.
func FuzzParseMetricsLine(f *testing.F) {
	f.Add([]byte(`{"step":3,"loss":0.5,"components":{"exploration":0.1}}`))
	f.Add([]byte(`{"step":0,"eval":{"reward":-0.5,"RAS":0.2}}`))
	f.Add([]byte(`{"step":-1}`))
	f.Add([]byte(`{"step":1.5,"loss":1}`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, b []byte) {
		tp, ep, isEval, _, err := parseMetricsLine(b)
		if err != nil {
			return
		}
		if isEval && (ep.Step < 0 || ep.Metrics == nil) {
			t.Fatalf("bad eval point %+v", ep)
		}
		if !isEval && (tp.Step < 0 || tp.Values == nil) {
			t.Fatalf("bad train point %+v", tp)
		}
	})
}

// Selection trials (evaluated on the dev split) are not results: load
// leaves them out and says so.
func TestLoadSkipsSelectionTrials(t *testing.T) {
	dir := t.TempDir()
	for id, split := range map[string]string{"grao-s1000-aaaa": "dev", "grao-s1-bbbb": "eval"} {
		if err := os.MkdirAll(filepath.Join(dir, "runs", id), 0o755); err != nil {
			t.Fatal(err)
		}
		ev := `{"trial":"` + id + `","task":"skills","model":"small","algorithm":"grao","seed":1,"metrics":{"RAS":1},"split":"` + split + `"}`
		if err := os.WriteFile(filepath.Join(dir, "runs", id, "eval.json"), []byte(ev), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	sd, err := load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(sd.Trials) != 1 || sd.Trials[0].ID != "grao-s1-bbbb" {
		t.Fatalf("trials %+v", sd.Trials)
	}
	if len(sd.notes) != 1 || !strings.Contains(sd.notes[0].Reason, "1 selection trials") {
		t.Errorf("notes %v", sd.notes)
	}
}
