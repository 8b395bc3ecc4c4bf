package sweep

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/BurntSushi/toml"
	"github.com/grao-lab/grao/rewards"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

func mustParse(t testing.TB, src, file string) *Sweep {
	t.Helper()
	s, err := Parse([]byte(src), file)
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	return s
}

func mustExpand(t testing.TB, s *Sweep) []Trial {
	t.Helper()
	trials, err := s.Expand()
	if err != nil {
		t.Fatalf("expand: %v", err)
	}
	return trials
}

// TestGolden pins the resolved sweep, plan.json and every config.toml of
// a small sweep.
func TestGolden(t *testing.T) {
	s, err := ParseFile("testdata/small.toml")
	if err != nil {
		t.Fatal(err)
	}
	s.Resolve()
	trials := mustExpand(t, s)
	var out bytes.Buffer
	out.WriteString("# resolved sweep\n")
	if err := toml.NewEncoder(&out).Encode(s); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := WritePlan(filepath.Join(dir, "plan.json"), s, trials); err != nil {
		t.Fatal(err)
	}
	plan, err := os.ReadFile(filepath.Join(dir, "plan.json"))
	if err != nil {
		t.Fatal(err)
	}
	out.WriteString("\n# plan.json\n")
	out.Write(plan)
	for _, tr := range trials {
		b, err := EncodeTrial(tr)
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&out, "\n# runs/%s/config.toml\n", tr.ID)
		out.Write(b)
	}
	golden := "testdata/small.golden"
	if *update {
		if err := os.WriteFile(golden, out.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if !bytes.Equal(out.Bytes(), want) {
		t.Errorf("output differs from %s (run with -update after checking the diff):\n%s", golden, firstDiff(out.String(), string(want)))
	}
}

func firstDiff(got, want string) string {
	g, w := strings.Split(got, "\n"), strings.Split(want, "\n")
	for i := range max(len(g), len(w)) {
		var a, b string
		if i < len(g) {
			a = g[i]
		}
		if i < len(w) {
			b = w[i]
		}
		if a != b {
			return fmt.Sprintf("line %d:\n got: %q\nwant: %q", i+1, a, b)
		}
	}
	return ""
}

// TestExpandOrderAndScope: algorithms in file order, grid keys sorted
// (first slowest), seeds as given; algorithm.<label>.* multiplies only
// that algorithm, and only keys with several values are "varying".
func TestExpandOrderAndScope(t *testing.T) {
	s := mustParse(t, `name = "o"
seeds = [7, 2]
[task]
name = "arith"
[[algorithm]]
name = "sft"
[[algorithm]]
name = "grao"
[[algorithm]]
name = "grao"
label = "grao2"
[sweep]
"train.lr" = [1e-3, 2e-3]
"algorithm.grao.beta" = [0.1, 0.2, 0.3]
"eval.prompts" = [8]
`, "o.toml")
	trials := mustExpand(t, s)
	var got []string
	for _, tr := range trials {
		var v []string
		for _, k := range sortedKeys(tr.Varying) {
			v = append(v, k+"="+tr.Varying[k])
		}
		got = append(got, fmt.Sprintf("%s s%d %s", tr.Label, tr.Seed, strings.Join(v, ",")))
		if tr.Eval.Prompts != 8 {
			t.Errorf("%s: eval.prompts %d, want 8 from the single-valued grid key", tr.ID, tr.Eval.Prompts)
		}
	}
	var want []string
	for _, lr := range []string{"0.001", "0.002"} {
		for _, sd := range []string{"7", "2"} {
			want = append(want, "sft s"+sd+" train.lr="+lr)
		}
	}
	for _, b := range []string{"0.1", "0.2", "0.3"} {
		for _, lr := range []string{"0.001", "0.002"} {
			for _, sd := range []string{"7", "2"} {
				want = append(want, "grao s"+sd+" algorithm.grao.beta="+b+",train.lr="+lr)
			}
		}
	}
	for _, lr := range []string{"0.001", "0.002"} {
		for _, sd := range []string{"7", "2"} {
			want = append(want, "grao2 s"+sd+" train.lr="+lr)
		}
	}
	if !slices.Equal(got, want) {
		t.Errorf("order:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	// The grid value reaches the parameters, and the other GRAO keeps its
	// default.
	if b := trials[4].Params["beta"]; b != 0.1 {
		t.Errorf("grao beta %v (%T), want 0.1", b, b)
	}
	if b := trials[len(trials)-1].Params["beta"]; b != 0.5 {
		t.Errorf("grao2 beta %v, want the default 0.5", b)
	}
	ids := map[string]bool{}
	for _, tr := range trials {
		if ids[tr.ID] {
			t.Errorf("duplicate ID %s", tr.ID)
		}
		ids[tr.ID] = true
	}
}

func TestResolveDefaults(t *testing.T) {
	s := mustParse(t, "seeds = [1]\n[task]\nname = \"hh-helpful\"\n[[algorithm]]\nname = \"sft\"\n[[algorithm]]\nname = \"grao\"\n", "dir/my-sweep.toml")
	s.Resolve()
	want := Sweep{
		Name:     "my-sweep",
		Seeds:    []uint64{1},
		Model:    ModelSpec{Preset: "small", DModel: 128, NLayer: 2, NHead: 4, Context: 128, Label: "small"},
		Task:     TaskSpec{Name: "hh-helpful", TieMargin: 0.05, DataSeed: 1, Truncate: "none"},
		Pretrain: PretrainSpec{Steps: 600, Batch: 32, LR: 3e-3, Warmup: 30, Seed: 1, Pack: true},
		Train: TrainSpec{Steps: 40, Prompts: 8, LR: 5e-4, Schedule: "constant", WeightDecay: 0.01, ClipNorm: 1,
			Temperature: 0.7, TopP: 1, MaxNew: 48, EvalEvery: 2, TemperedLogProbs: true, CheckpointEvery: 4},
		Eval:      EvalSpec{MaxNew: 48, Split: "eval"},
		Reward:    RewardSpec{Kind: "judge"},
		Select:    SelectSpec{Metric: "reward", Seeds: []uint64{1000}},
		Calibrate: CalibrateSpec{Prompts: 64, Samples: 16, Seed: 1},
		Report:    ReportSpec{Target: "grao", Baselines: []string{"sft"}, Metric: "RAS", Metrics: []string{"RAS", "NAG"}},
	}
	got := *s
	got.Algorithms, got.file, got.dir, got.loc, got.set, got.grid, got.selGrid, got.raw, got.controlsAdded = nil, "", "", nil, nil, nil, nil, nil, false
	got.Task.Kinds, got.Task.Levels, got.Task.Band, got.Select.Grid, got.Report.Compare = nil, nil, nil, nil, nil
	if !reflect.DeepEqual(got, want) {
		t.Errorf("resolved:\n%+v\nwant:\n%+v", got, want)
	}
	for i, name := range []string{"sft", "grao"} {
		a := s.Algorithms[i]
		if a.Label != name {
			t.Errorf("label %q, want %q", a.Label, name)
		}
		if len(a.Params) == 0 {
			t.Errorf("%s: params not filled with the algorithm's defaults", name)
		}
	}
	if got := s.Algorithms[1].Params["lambda"]; got != 0.6 {
		t.Errorf("grao lambda default %v, want 0.6", got)
	}
	// Resolve is idempotent.
	before := fmt.Sprintf("%+v", *s)
	s.Resolve()
	if after := fmt.Sprintf("%+v", *s); before != after {
		t.Errorf("second Resolve changed the sweep")
	}
	// The trials carry the same defaults.
	tr := mustExpand(t, s)[0]
	if tr.Model != want.Model || !reflect.DeepEqual(tr.Task, want.Task) || tr.Pretrain != want.Pretrain || tr.Train != want.Train || tr.Eval != want.Eval {
		t.Errorf("trial sections differ from the resolved sweep: %+v", tr)
	}
}

func TestDefaultsMatchOtherPackages(t *testing.T) {
	if DefaultTieMargin != rewards.DefaultTieMargin {
		t.Errorf("DefaultTieMargin %v, rewards says %v", DefaultTieMargin, rewards.DefaultTieMargin)
	}
}

func TestExplicitZeroAndDependentDefaults(t *testing.T) {
	s := mustParse(t, `name = "z"
seeds = [1]
[task]
name = "arith"
[train]
weight_decay = 0
clip_norm = 0
temperature = 0
max_new_tokens = 16
[eval]
max_new_tokens = 16
[pretrain]
steps = 0
[[algorithm]]
name = "sft"
[sweep]
"train.steps" = [8, 100]
"model.preset" = ["tiny", "medium"]
`, "z.toml")
	s.Resolve() // must not freeze the small preset's sizes into the trials
	trials := mustExpand(t, s)
	if len(trials) != 4 {
		t.Fatalf("%d trials, want 4", len(trials))
	}
	for _, tr := range trials {
		if tr.Train.WeightDecay != 0 || tr.Train.ClipNorm != 0 || tr.Train.Temperature != 0 || tr.Pretrain.Steps != 0 {
			t.Errorf("%s: explicit zeros replaced by defaults: %+v %+v", tr.ID, tr.Train, tr.Pretrain)
		}
		if want := max(1, tr.Train.Steps/DefaultEvalPoints); tr.Train.EvalEvery != want {
			t.Errorf("%s: eval_every %d, want %d for %d steps", tr.ID, tr.Train.EvalEvery, want, tr.Train.Steps)
		}
		wantD := map[string]int{"tiny": 64, "medium": 256}[tr.Model.Preset]
		if tr.Model.DModel != wantD || tr.Model.Label != tr.Model.Preset {
			t.Errorf("%s: model %+v, want the %s preset's sizes", tr.ID, tr.Model, tr.Model.Preset)
		}
		if tr.Task.Digits != 2 {
			t.Errorf("arith digits %d, want 2", tr.Task.Digits)
		}
	}
	// Explicit sizes override the preset, and the label says so.
	s = mustParse(t, "seeds = [1]\n[model]\npreset = \"small\"\nd_model = 96\nn_head = 3\n[task]\nname = \"arith\"\n[[algorithm]]\nname = \"sft\"\n", "e.toml")
	m := mustExpand(t, s)[0].Model
	if m.DModel != 96 || m.NHead != 3 || m.NLayer != 2 || m.Label != "d96l2" {
		t.Errorf("model %+v", m)
	}
}

// TestDatasetPath: a JSONL task is found relative to the sweep file; the
// trial records its absolute path and hash, and its ID does not depend on
// where the directory lives, but does depend on the data.
func TestDatasetPath(t *testing.T) {
	src := "name = \"d\"\nseeds = [1]\n[task]\nname = \"data/d.jsonl\"\n[[algorithm]]\nname = \"dpo\"\n"
	id := func(data string) (string, Trial) {
		p := writeSweep(t, src, map[string]string{"data/d.jsonl": data})
		s, err := ParseFile(p)
		if err != nil {
			t.Fatal(err)
		}
		tr := mustExpand(t, s)[0]
		if want := filepath.Join(filepath.Dir(p), "data", "d.jsonl"); tr.Task.Path != want {
			t.Errorf("path %q, want %q", tr.Task.Path, want)
		}
		if tr.Task.Name != "data/d.jsonl" || tr.Task.Source() != tr.Task.Path || len(tr.Task.SHA256) != 64 {
			t.Errorf("task %+v", tr.Task)
		}
		return tr.ID, tr
	}
	data := jsonlLine + strings.Replace(jsonlLine, "hi", "hey", 1)
	a, _ := id(data)
	b, _ := id(data) // another temporary directory
	if a != b {
		t.Errorf("same data in another directory: IDs %s and %s", a, b)
	}
	if c, _ := id(data + strings.Replace(jsonlLine, "hi", "yo", 1)); c == a {
		t.Errorf("different data, same ID %s", a)
	}
}

func TestPluginPath(t *testing.T) {
	src := minimal + "[reward]\nkind = \"combine\"\n[[reward.part]]\nkind = \"plugin\"\npath = \"bin/p.sh\"\n[[reward.part]]\nkind = \"length\"\ntarget = 30\nweight = 0.5\n"
	p := writeSweep(t, src, map[string]string{"bin/p.sh": "#!/bin/sh\nexit 0\n"})
	s, err := ParseFile(p)
	if err != nil {
		t.Fatal(err)
	}
	tr := mustExpand(t, s)[0]
	pp := tr.Reward.Parts[0]
	if pp.Path != filepath.Join(filepath.Dir(p), "bin", "p.sh") || len(pp.SHA256) != 64 || pp.Timeout != "60s" || pp.Weight != 1 {
		t.Errorf("plugin part %+v", pp)
	}
	lp := tr.Reward.Parts[1]
	if lp.Target != 30 || lp.Weight != 0.5 || lp.PerByte != 0.01 || lp.Max != 1 || lp.Timeout != "" {
		t.Errorf("length part %+v", lp)
	}
	// The computed hash is accepted when written back into the file.
	p2 := writeSweep(t, strings.Replace(src, "path = \"bin/p.sh\"", "path = \"bin/p.sh\"\nsha256 = \""+pp.SHA256+"\"", 1),
		map[string]string{"bin/p.sh": "#!/bin/sh\nexit 0\n"})
	if _, err := ParseFile(p2); err != nil {
		t.Errorf("pinned hash rejected: %v", err)
	}
}

func TestWritePlan(t *testing.T) {
	s, err := ParseFile("../quickstart.toml")
	if err != nil {
		t.Fatal(err)
	}
	trials := mustExpand(t, s)
	dir := t.TempDir()
	path := filepath.Join(dir, "plan.json")
	if err := os.WriteFile(path, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := WritePlan(path, s, trials); err != nil {
		t.Fatal(err)
	}
	var p Plan
	b, _ := os.ReadFile(path)
	if err := json.Unmarshal(b, &p); err != nil {
		t.Fatalf("plan.json: %v", err)
	}
	if p.Sweep != "quickstart" || p.Trials != 5 || len(p.List) != 5 || p.Bases != 1 {
		t.Errorf("plan %+v", p)
	}
	for i, pt := range p.List {
		if pt.ID != trials[i].ID || pt.BaseKey != trials[i].BaseKey() || pt.Seed != 1 || pt.Task != "skills" || pt.Model != "small" {
			t.Errorf("entry %d: %+v", i, pt)
		}
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("temporary files left: %v", entries)
	}
	if err := WritePlan(filepath.Join(dir, "missing", "plan.json"), s, trials); err == nil {
		t.Errorf("no error for a missing directory")
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("a failed write left files: %v", entries)
	}
}
