package sweep

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// minimal is a valid sweep; cases append to it or replace parts of it.
const minimal = `name = "t"
seeds = [1]
[task]
name = "hh-helpful"
[[algorithm]]
name = "grao"
`

// writeSweep writes src (and extra files) into a fresh directory.
func writeSweep(t *testing.T, src string, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, body := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		mode := os.FileMode(0o644)
		if strings.HasSuffix(name, ".sh") {
			mode = 0o755
		}
		if err := os.WriteFile(p, []byte(body), mode); err != nil {
			t.Fatal(err)
		}
	}
	p := filepath.Join(dir, "bad.toml")
	if err := os.WriteFile(p, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

const jsonlLine = `{"prompt": "Human: hi\nAssistant:", "chosen": " hello", "rejected": " go away"}` + "\n"

func TestParseErrors(t *testing.T) {
	cases := []struct {
		name   string
		src    string
		files  map[string]string
		line   int
		key    string
		reason string
	}{
		{"syntax error", "name = \"t\"\nseeds = [1]\n[train]\nsteps = = 5\n", nil, 4, "train.steps", "syntax error: expected value"},
		{"unterminated array", "name = \"t\"\nseeds = [1,\n", nil, 2, "seeds", "syntax error: unexpected EOF"},
		{"key after an algorithm table is a parameter", minimal + "colour = 3\n", nil, 7, "algorithm.grao.colour", `unknown field "colour"`},
		{"unknown top-level key", "colour = 3\n" + minimal, nil, 1, "colour", "unknown key (known: name, seeds"},
		{"unknown key in train", minimal + "[train]\nsteps = 3\nstpes = 5\n", nil, 9, "train.stpes", "unknown key"},
		{"unknown algorithm parameter", minimal + "betta = 0.5\n", nil, 7, "algorithm.grao.betta", `unknown field "betta"`},
		{"bad algorithm parameter", minimal + "group = \"all\"\n", nil, 7, "algorithm.grao.group", `group = "all"`},
		{"algorithm parameter type", minimal + "beta = \"high\"\n", nil, 7, "algorithm.grao.beta", "beta"},
		{"unknown algorithm", strings.Replace(minimal, `name = "grao"`, `name = "gro"`, 1), nil, 6, "algorithm.gro.name", `unknown algorithm "gro"`},
		{"algorithm without name", minimal + "[[algorithm]]\nlabel = \"x\"\n", nil, 7, "algorithm.x", "name is required"},
		{"single algorithm table", "name = \"t\"\nseeds = [1]\n[algorithm]\nname = \"grao\"\n", nil, 3, "algorithm", "want [[algorithm]] tables"},
		{"no algorithm", "name = \"t\"\nseeds = [1]\n[task]\nname = \"arith\"\n", nil, 0, "algorithm", "at least one [[algorithm]]"},
		{"wrong type", minimal + "[train]\nsteps = \"ten\"\n", nil, 8, "train.steps", "want an integer, got string \"ten\""},
		{"float for integer", minimal + "[train]\nprompts = 2.5\n", nil, 8, "train.prompts", "want an integer, got float 2.5"},
		{"string for table", "train = 3\n" + minimal, nil, 1, "train", "want a table"},
		{"negative steps", minimal + "[train]\nsteps = -5\n", nil, 8, "train.steps", "must be ≥ 1, got -5"},
		{"zero prompts", minimal + "[train]\nprompts = 0\n", nil, 8, "train.prompts", "must be ≥ 1, got 0"},
		{"negative pretrain steps", minimal + "[pretrain]\nsteps = -1\n", nil, 8, "pretrain.steps", "must be ≥ 0"},
		{"negative temperature", minimal + "[train]\ntemperature = -0.1\n", nil, 8, "train.temperature", "must be ≥ 0"},
		{"top_p above 1", minimal + "[train]\ntop_p = 1.5\n", nil, 8, "train.top_p", "must be in [0, 1]"},
		{"engine not in this build", minimal + "[train]\ndevice = \"cuda\"\n", nil, 8, "train.device", "needs a bench built with -tags grao_cuda"},
		{"unknown engine", minimal + "[train]\ndevice = \"tpu\"\n", nil, 8, "train.device", `engine "tpu" is not in this build (have cpu)`},
		{"bad schedule", minimal + "[train]\nschedule = \"linear\"\n", nil, 8, "train.schedule", "want constant or cosine"},
		{"non-finite lr", minimal + "[train]\nlr = nan\n", nil, 8, "train.lr", "must be finite"},
		{"unknown preset", minimal + "[model]\npreset = \"huge\"\n", nil, 8, "model.preset", `unknown model preset "huge"`},
		{"heads do not divide", minimal + "[model]\nn_head = 3\n", nil, 8, "model.n_head", "must divide d_model = 128"},
		{"max_new exceeds context", minimal + "[model]\npreset = \"tiny\"\n[eval]\nmax_new_tokens = 64\n", nil, 10, "eval.max_new_tokens", "no room for the prompt"},
		{"empty seeds", strings.Replace(minimal, "seeds = [1]", "seeds = []", 1), nil, 2, "seeds", "at least one seed"},
		{"missing seeds", strings.Replace(minimal, "seeds = [1]\n", "", 1), nil, 0, "seeds", "at least one seed"},
		{"duplicate seeds", strings.Replace(minimal, "seeds = [1]", "seeds = [1, 2, 1]", 1), nil, 2, "seeds", "seed 1 is listed twice"},
		{"negative seed", strings.Replace(minimal, "seeds = [1]", "seeds = [1, -2]", 1), nil, 2, "seeds[2]", "must be ≥ 0"},
		{"duplicate labels", minimal + "[[algorithm]]\nname = \"grao\"\nbeta = 0.3\n", nil, 7, "algorithm.grao", "already used by the [[algorithm]] on line 5"},
		{"bad label", minimal + "label = \"my grao\"\n", nil, 7, "algorithm[1].label", "must be letters"},
		{"bad sweep name", strings.Replace(minimal, `name = "t"`, `name = "a/b"`, 1), nil, 1, "name", "must be letters"},
		{"missing dataset file", strings.Replace(minimal, `name = "hh-helpful"`, `name = "data/missing.jsonl"`, 1), nil, 4, "task.name", "neither a built-in task"},
		{"broken dataset file", strings.Replace(minimal, `name = "hh-helpful"`, `name = "d.jsonl"`, 1), map[string]string{"d.jsonl": jsonlLine + "{\"prompt\": 3}\n"}, 4, "task.name", "d.jsonl:2"},
		{"digits for another task", minimal + "digits = 3\n", nil, 7, "algorithm.grao.digits", "unknown field"},
		{"digits outside arith", strings.Replace(minimal, `name = "hh-helpful"`, "name = \"hh-helpful\"\ndigits = 3", 1), nil, 5, "task.digits", "arith task only"},
		{"unknown subtable", minimal + "[eval]\nprompts = 50\n[task.x]\n", nil, 9, "task.x", "unknown key"},
		{"unknown grid key", minimal + "[sweep]\n\"train.lrr\" = [1e-4]\n", nil, 8, `sweep."train.lrr"`, "not a grid key"},
		{"grid over a table", minimal + "[sweep]\n\"reward.part\" = [1]\n", nil, 8, `sweep."reward.part"`, "not a grid key"},
		{"grid value type", minimal + "[sweep]\n\"train.steps\" = [10, \"x\"]\n", nil, 8, `sweep."train.steps"`, "value 2: want an integer"},
		{"grid value range", minimal + "[sweep]\n\"train.steps\" = [10, -1]\n", nil, 8, `sweep."train.steps"`, "must be ≥ 1, got -1"},
		{"grid not a list", minimal + "[sweep]\n\"train.steps\" = 10\n", nil, 8, `sweep."train.steps"`, "want an array"},
		{"grid empty list", minimal + "[sweep]\n\"train.steps\" = []\n", nil, 8, `sweep."train.steps"`, "empty list"},
		{"grid unknown label", minimal + "[sweep]\n\"algorithm.grpo.g\" = [2, 4]\n", nil, 8, `sweep."algorithm.grpo.g"`, `no [[algorithm]] is labelled "grpo"`},
		{"grid algorithm name", minimal + "[sweep]\n\"algorithm.grao.name\" = [\"sft\"]\n", nil, 8, `sweep."algorithm.grao.name"`, "cannot vary"},
		{"grid algorithm param value", minimal + "[sweep]\n\"algorithm.grao.group\" = [\"samples\", \"all\"]\n", nil, 8, `sweep."algorithm.grao.group"`, `group = "all"`},
		{"grid unknown param", minimal + "[sweep]\n\"algorithm.grao.betta\" = [1]\n", nil, 8, `sweep."algorithm.grao.betta"`, `unknown field "betta"`},
		{"grid dotted unquoted", minimal + "[sweep]\ntrain.steps = [0]\n", nil, 8, "sweep.train.steps", "must be ≥ 1, got 0"},
		{"grid model label fixed", minimal + "[model]\nlabel = \"m\"\n[sweep]\n\"model.preset\" = [\"small\", \"medium\"]\n", nil, 8, "model.label", "is fixed while the grid varies"},
		{"resolved key in sweep", minimal + "sha256 = \"00\"\n", nil, 7, "algorithm.grao.sha256", "unknown field"},
		{"task path not accepted", strings.Replace(minimal, `name = "hh-helpful"`, "name = \"hh-helpful\"\npath = \"/x\"", 1), nil, 5, "task.path", "unknown key"},
		{"report target", minimal + "[report]\ntarget = \"ppo\"\n", nil, 8, "report.target", `no [[algorithm]] is labelled "ppo"`},
		{"report baseline is target", minimal + "[report]\nbaselines = [\"grao\"]\n", nil, 8, "report.baselines", "is the target"},
		{"parts without combine", minimal + "[[reward.part]]\nkind = \"judge\"\n", nil, 7, "reward.part", "only used with reward.kind = \"combine\""},
		{"unknown part key", minimal + "[reward]\nkind = \"combine\"\n[[reward.part]]\nkind = \"judge\"\n[[reward.part]]\nkind = \"score\"\ncolour = 1\n", nil, 13, "reward.part[2].colour", "unknown key"},
		{"length part without target", minimal + "[reward]\nkind = \"combine\"\n[[reward.part]]\nkind = \"length\"\n", nil, 9, "reward.part[1].target", "needs target"},
		{"plugin missing", minimal + "[reward]\nkind = \"combine\"\n[[reward.part]]\nkind = \"plugin\"\npath = \"./nope\"\n", nil, 11, "reward.part[1].path", `plugin "./nope" not found`},
		{"plugin not executable", minimal + "[reward]\nkind = \"combine\"\n[[reward.part]]\nkind = \"plugin\"\npath = \"./p.txt\"\n", map[string]string{"p.txt": "x"}, 11, "reward.part[1].path", "not executable"},
		{"plugin sha mismatch", minimal + "[reward]\nkind = \"combine\"\n[[reward.part]]\nkind = \"plugin\"\npath = \"./p.sh\"\nsha256 = \"" + strings.Repeat("ab", 32) + "\"\n", map[string]string{"p.sh": "#!/bin/sh\n"}, 12, "reward.part[1].sha256", "does not match"},
		{"plugin bad timeout", minimal + "[reward]\nkind = \"combine\"\n[[reward.part]]\nkind = \"plugin\"\npath = \"./p.sh\"\ntimeout = \"soon\"\n", map[string]string{"p.sh": "#!/bin/sh\n"}, 12, "reward.part[1].timeout", "positive duration"},
		{"target on a judge part", minimal + "[reward]\nkind = \"combine\"\n[[reward.part]]\nkind = \"judge\"\ntarget = 3\n", nil, 11, "reward.part[1].target", `applies to kind = "length"`},
		{"checkpoint missing", minimal + "[pretrain]\ncheckpoint = \"base\"\n", nil, 8, "pretrain.checkpoint", "is not a directory"},
		{"negative workers", "workers = -1\n" + minimal, nil, 1, "workers", "must be ≥ 0"},
		{"explicit zero train size", strings.Replace(minimal, `name = "hh-helpful"`, "name = \"hh-helpful\"\ntrain_size = 0", 1), nil, 5, "task.train_size", "must be ≥ 1"},
		{"one size without the other", strings.Replace(minimal, `name = "hh-helpful"`, "name = \"hh-helpful\"\ntrain_size = 100", 1), nil, 3, "task.eval_size", "give both or neither"},
		{"sizes for a dataset", strings.Replace(minimal, `name = "hh-helpful"`, "name = \"d.jsonl\"\neval_size = 10", 1), map[string]string{"d.jsonl": jsonlLine + strings.Replace(jsonlLine, "hi", "ho", 1)}, 5, "task.eval_size", "built-in tasks only"},
		{"eval prompts over eval size", strings.Replace(minimal, `name = "hh-helpful"`, "name = \"hh-helpful\"\neval_size = 10\ntrain_size = 100", 1) + "[eval]\nprompts = 20\n", nil, 10, "eval.prompts", "exceeds task.eval_size = 10"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			path := writeSweep(t, c.src, c.files)
			s, err := ParseFile(path)
			if err == nil {
				t.Fatalf("no error; parsed %+v", s)
			}
			if s != nil {
				t.Errorf("got a sweep along with the error")
			}
			var first *Error
			if !errors.As(err, &first) {
				t.Fatalf("error %T is not an *Error: %v", err, err)
			}
			for _, e := range Errors(err) {
				if e.File != path {
					t.Errorf("file %q, want %q", e.File, path)
				}
				if e.Line == c.line && e.Key == c.key && strings.Contains(e.Reason, c.reason) {
					want := path + ":"
					if c.line > 0 {
						want = path + ":" + strconv.Itoa(c.line) + ":"
					}
					if !strings.HasPrefix(e.Error(), want) {
						t.Errorf("message %q does not start with %q", e.Error(), want)
					}
					return
				}
			}
			t.Errorf("no error at line %d, key %q, reason containing %q; got:\n%v", c.line, c.key, c.reason, err)
		})
	}
}

// Parse reports every decoding and validation problem in one pass; a key
// that failed to decode is not reported again by the range checks that see
// its zero value.
func TestParseReportsEveryProblem(t *testing.T) {
	keys := func(src string) []string {
		_, err := Parse([]byte(src), "x.toml")
		var out []string
		for _, e := range Errors(err) {
			out = append(out, e.Key)
		}
		return out
	}
	cases := []struct {
		src  string
		want []string
	}{
		{"name = \"t\"\nseeds = [1]\ncolour = 2\n[train]\nsteps = \"x\"\nstpes = 1\n[[algorithm]]\nname = \"grao\"\n",
			[]string{"task.name", "colour", "train.steps", "train.stpes"}}, // task.name: the file has no [task]
		{"name = \"t\"\nseeds = [1, 1]\n[task]\nname = \"arith\"\n[train]\nsteps = -1\ntop_p = 2.0\n[[algorithm]]\nname = \"grao\"\nbetta = 1\n",
			[]string{"seeds", "train.steps", "train.top_p", "algorithm.grao.betta"}},
		// A type error and a misspelt key do not hide a range error.
		{"name = \"t\"\nseeds = [1]\n[task]\nname = \"arith\"\n[train]\nsteps = \"x\"\nstpes = 1\ntop_p = 2.0\n[[algorithm]]\nname = \"grao\"\n",
			[]string{"train.steps", "train.stpes", "train.top_p"}},
		// A bad grid key and a bad algorithm do not hide the other problems.
		{"name = \"t\"\nseeds = [1]\n[task]\nname = \"arith\"\n[train]\nsteps = -1\n[[algorithm]]\nname = \"gro\"\n[[algorithm]]\nname = \"grpo\"\ng = 0\n[sweep]\n\"train.lrr\" = [1]\n",
			[]string{"train.steps", "algorithm.gro.name", "algorithm.grpo.g", `sweep."train.lrr"`}},
	}
	for _, c := range cases {
		if got := keys(c.src); strings.Join(got, ",") != strings.Join(c.want, ",") {
			t.Errorf("keys %v, want %v (all problems, in line order)", got, c.want)
		}
	}
}

func TestErrorString(t *testing.T) {
	cases := []struct {
		e    Error
		want string
	}{
		{Error{File: "a.toml", Line: 3, Key: "train.steps", Reason: "must be ≥ 1"}, "a.toml:3: train.steps: must be ≥ 1"},
		{Error{File: "a.toml", Key: "seeds", Reason: "required"}, "a.toml: seeds: required"},
		{Error{File: "a.toml", Line: 2, Reason: "syntax error: x"}, "a.toml:2: syntax error: x"},
	}
	for _, c := range cases {
		if got := c.e.Error(); got != c.want {
			t.Errorf("got %q, want %q", got, c.want)
		}
	}
}

func TestParseFileMissing(t *testing.T) {
	_, err := ParseFile(filepath.Join(t.TempDir(), "nope.toml"))
	var e *Error
	if !errors.As(err, &e) || !strings.Contains(e.Error(), "nope.toml: no such file") {
		t.Fatalf("got %v", err)
	}
}

func TestParseRejectsHugeGrid(t *testing.T) {
	vals := strings.Repeat("1, ", 99) + "1"
	src := minimal + "[sweep]\n\"train.steps\" = [" + vals + "]\n\"train.prompts\" = [" + vals + "]\n\"pretrain.steps\" = [" + vals + "]\n"
	_, err := Parse([]byte(src), "h.toml")
	if err == nil || !strings.Contains(err.Error(), "h.toml:7: sweep: expands to more than 100000 trials") {
		t.Fatalf("got %v", err)
	}
}
