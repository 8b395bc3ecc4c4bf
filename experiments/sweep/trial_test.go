package sweep

import (
	"fmt"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func presetTrials(t *testing.T) []Trial {
	t.Helper()
	files, _ := filepath.Glob("../*.toml")
	files = append(files, "testdata/small.toml")
	var all []Trial
	for _, f := range files {
		s, err := ParseFile(f)
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, mustExpand(t, s)...)
	}
	return all
}

func TestTrialRoundTrip(t *testing.T) {
	trials := presetTrials(t)
	// And one with reward parts and a JSONL task.
	p := writeSweep(t, strings.Replace(minimal, `name = "hh-helpful"`, `name = "d.jsonl"`, 1)+
		"[reward]\nkind = \"combine\"\n[[reward.part]]\nkind = \"plugin\"\npath = \"p.sh\"\nargs = [\"-v\", \"x y\"]\n[[reward.part]]\nkind = \"length\"\ntarget = 0\n",
		map[string]string{"p.sh": "#!/bin/sh\n", "d.jsonl": jsonlLine + strings.Replace(jsonlLine, "hi", "ho", 1)})
	s, err := ParseFile(p)
	if err != nil {
		t.Fatal(err)
	}
	trials = append(trials, mustExpand(t, s)...)
	for _, tr := range trials {
		b, err := EncodeTrial(tr)
		if err != nil {
			t.Fatal(err)
		}
		back, err := DecodeTrial(b, "config.toml")
		if err != nil {
			t.Fatalf("%s: %v\n%s", tr.ID, err, b)
		}
		if !reflect.DeepEqual(back, tr) {
			t.Errorf("%s: round trip differs:\n got %+v\nwant %+v", tr.ID, back, tr)
		}
		b2, _ := EncodeTrial(back)
		if string(b2) != string(b) {
			t.Errorf("%s: re-encoding differs", tr.ID)
		}
	}
}

func TestDecodeTrialErrors(t *testing.T) {
	s, err := ParseFile("../quickstart.toml")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := EncodeTrial(mustExpand(t, s)[4])
	src := string(b)
	lineOf := func(sub string) int {
		i := strings.Index(src, sub)
		if i < 0 {
			t.Fatalf("%q not in config", sub)
		}
		return strings.Count(src[:i], "\n") + 1
	}
	cases := []struct {
		name, src string
		line      int
		key       string
		reason    string
	}{
		{"edited value", strings.Replace(src, "steps = 60", "steps = 61", 1), lineOf("id ="), "id", "does not match"},
		{"unknown key", strings.Replace(src, "[train]\n", "[train]\nspeed = 1\n", 1), lineOf("[train]") + 1, "train.speed", "unknown key"},
		{"wrong type", strings.Replace(src, "seed = 1\n", "seed = \"one\"\n", 1), lineOf("seed = 1"), "seed", "want a non-negative integer"},
		{"syntax", src + "[[[\n", strings.Count(src, "\n") + 1, lastTable(src), "syntax error"},
	}
	for _, c := range cases {
		_, err := DecodeTrial([]byte(c.src), "runs/x/config.toml")
		found := false
		for _, e := range Errors(err) {
			if e.File == "runs/x/config.toml" && e.Line == c.line && e.Key == c.key && strings.Contains(e.Reason, c.reason) {
				found = true
			}
		}
		if !found {
			t.Errorf("%s: want line %d key %q reason %q; got %v", c.name, c.line, c.key, c.reason, err)
		}
	}
}

// TestIDStable: the same configuration gives the same ID however it is
// written: key order, 1 vs 1.0, a grid with one value, another sweep name.
func TestIDStable(t *testing.T) {
	id := func(src string) string {
		s := mustParse(t, src, "a.toml")
		trials := mustExpand(t, s)
		if len(trials) != 1 {
			t.Fatalf("%d trials", len(trials))
		}
		return trials[0].ID
	}
	base := id("name = \"a\"\nseeds = [4]\n[task]\nname = \"arith\"\n[train]\nlr = 1e-3\nsteps = 40\n[[algorithm]]\nname = \"grao\"\nbeta = 1\n")
	same := []string{
		"seeds = [4]\nname = \"b\"\n[train]\nsteps = 40\nlr = 0.001\n[task]\nname = \"arith\"\n[[algorithm]]\nbeta = 1.0\nname = \"grao\"\n",
		"name = \"c\"\nseeds = [4]\n[task]\nname = \"arith\"\n[[algorithm]]\nname = \"grao\"\n[sweep]\n\"train.lr\" = [0.001]\n\"algorithm.grao.beta\" = [1]\n",
		"name = \"d\"\nseeds = [4]\ntrain.lr = 1e-3\ntask.name = \"arith\"\n[[algorithm]]\nname = \"grao\"\nbeta = 1\nlambda = 0.6\n",
	}
	for i, src := range same {
		if got := id(src); got != base {
			t.Errorf("variant %d: ID %s, want %s", i, got, base)
		}
	}
	if !strings.HasPrefix(base, "grao-s4-") || len(base) != len("grao-s4-")+8 {
		t.Errorf("ID %q does not have the form <label>-s<seed>-<8 hex>", base)
	}
}

// TestIDCoversEveryField changes each leaf field of a trial in turn: the
// ID must change, except for the fields it deliberately ignores. A field
// added to spec.go is covered automatically.
func TestIDCoversEveryField(t *testing.T) {
	s, err := ParseFile("testdata/small.toml")
	if err != nil {
		t.Fatal(err)
	}
	orig := mustExpand(t, s)[5]
	orig.Reward = RewardSpec{Kind: "combine", Parts: []RewardPart{{Kind: "plugin", Weight: 1, Path: "/p", Args: []string{"a"}, SHA256: "00", Timeout: "1s"}}}
	orig.ID = ComputeID(orig)
	orig.Task.Kinds, orig.Task.Levels, orig.Task.Band = []string{"add"}, map[string]int{"add": 1}, []float64{0.2, 0.6}
	orig.ID = ComputeID(orig)
	ignored := map[string]bool{"ID": true, "Sweep": true, "Varying": true, "Selected": true, "Task.Path": true, "Train.CheckpointEvery": true}
	baseKeyed := map[string]bool{} // fields whose change must also change BaseKey
	for _, f := range []string{"Model.Preset", "Model.DModel", "Model.NLayer", "Model.NHead", "Model.Context", "Task.Name", "Task.TrainSize",
		"Task.EvalSize", "Task.Digits", "Task.DataSeed", "Task.SHA256", "Pretrain.Steps", "Pretrain.Batch", "Pretrain.LR", "Pretrain.Warmup",
		"Pretrain.Seed", "Pretrain.Checkpoint", "Pretrain.CheckpointSHA256", "Pretrain.Pack", "Task.DevSize", "Task.Kinds",
		"Model.Path", "Model.VocabSize", "Train.Device"} {
		baseKeyed[f] = true
	}
	n := 0
	forEachLeaf(reflect.ValueOf(&orig).Elem(), "", func(name string, set func()) {
		n++
		tr := cloneTrial(orig)
		forEachLeaf(reflect.ValueOf(&tr).Elem(), "", func(n2 string, set2 func()) {
			if n2 == name {
				set2()
			}
		})
		top, _, _ := strings.Cut(name, ".")
		ign := ignored[name] || ignored[top]
		changed := ComputeID(tr) != orig.ID
		if changed == ign {
			t.Errorf("changing %s: ID changed = %v, want %v", name, changed, !ign)
		}
		field, _, _ := strings.Cut(name, "[")
		if bk := tr.BaseKey() != orig.BaseKey(); bk != baseKeyed[field] {
			t.Errorf("changing %s: BaseKey changed = %v, want %v", name, bk, baseKeyed[field])
		}
	})
	if n < 40 {
		t.Errorf("only %d leaf fields visited", n)
	}
}

// lastTable is the name of the last [table] header in a TOML text (the
// syntax error parser attributes a broken line to it).
func lastTable(src string) string {
	i := strings.LastIndex(src, "\n[")
	j := strings.Index(src[i+2:], "]")
	return src[i+2 : i+2+j]
}

func cloneTrial(t Trial) Trial {
	b, err := EncodeTrial(t)
	if err != nil {
		panic(err)
	}
	c, err := DecodeTrial(b, "clone")
	if err != nil {
		panic(err)
	}
	return c
}

// forEachLeaf calls fn for every scalar leaf with a function that changes
// it (maps: each key's value, plus adding a key; slices: each element).
func forEachLeaf(v reflect.Value, name string, fn func(name string, set func())) {
	switch v.Kind() {
	case reflect.Struct:
		for i := range v.NumField() {
			f := v.Type().Field(i)
			if !f.IsExported() {
				continue
			}
			n := f.Name
			if name != "" {
				n = name + "." + n
			}
			forEachLeaf(v.Field(i), n, fn)
		}
	case reflect.Slice:
		for i := range v.Len() {
			forEachLeaf(v.Index(i), fmt.Sprintf("%s[%d]", name, i), fn)
		}
		fn(name+"[+]", func() { v.Set(reflect.Append(v, reflect.Zero(v.Type().Elem()))) })
	case reflect.Map:
		for _, k := range v.MapKeys() {
			key := k
			fn(name+"."+key.String(), func() {
				old := v.MapIndex(key).Interface()
				v.SetMapIndex(key, reflect.ValueOf(changed(old)))
			})
		}
		fn(name+".+", func() {
			if v.IsNil() {
				v.Set(reflect.MakeMap(v.Type()))
			}
			zero := reflect.Zero(v.Type().Elem()).Interface()
			if v.Type().Elem().Kind() == reflect.Interface {
				zero = ""
			}
			v.SetMapIndex(reflect.ValueOf("zz_new"), reflect.ValueOf(changed(zero)).Convert(v.Type().Elem()))
		})
	default:
		fn(name, func() { v.Set(reflect.ValueOf(changed(v.Interface())).Convert(v.Type())) })
	}
}

func changed(x any) any {
	switch x := x.(type) {
	case string:
		return x + "x"
	case int:
		return x + 1
	case int64:
		return x + 1
	case uint64:
		return x + 1
	case float64:
		return x + 0.25
	case bool:
		return !x
	}
	panic(fmt.Sprintf("changed: %T", x))
}
