package cli

import (
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var updateCompare = flag.Bool("update-compare", false, "rewrite testdata/compare/*.golden from the current output")

// fakeLine is one eval prompt of a fake trial.
type fakeLine struct {
	completion   string
	judge, score float64
}

// The fake task: four prompts of three kinds in two regimes, with their
// references and the starting model's completions.
var (
	fakePrompts = []string{
		"Human: Spell 'ab' backwards.\nAssistant:",
		"Human: What's the capital of Zuland?\nAssistant:",
		"Human: Echo 'x|y'.\nAssistant:",
		"Human: Count the letters of 'abc'.\nAssistant:",
	}
	fakeRefs   = []string{" It is ba.", " Usosi is the capital.", " The word is x|y.", " It has 3 letters."}
	fakeKinds  = []string{"reverse", "capital", "repeat", "count"}
	fakeRegime = []string{"explore", "imitate", "explore", "explore"}
	fakeStart  = []fakeLine{{completion: " ab", judge: -1}, {completion: " Berlin", judge: -1}, {completion: " x|y", judge: 1}, {completion: " 3", judge: 1}}
)

// writeFakeTrial writes a finished trial's manifest.json, eval.json and
// samples.jsonl; order lists the prompts in the trial's eval order.
func writeFakeTrial(t *testing.T, dir, id, label string, seed uint64, split string, order []int, out []fakeLine) string {
	t.Helper()
	tdir := filepath.Join(dir, id)
	if err := os.MkdirAll(tdir, 0o755); err != nil {
		t.Fatal(err)
	}
	writeJSONFile(t, filepath.Join(tdir, "manifest.json"), map[string]any{
		"schema": 2, "trial": id, "label": label, "algorithm": label, "seed": seed, "status": "done",
	})
	var rewards, scores []float64
	var kinds, regimes []string
	var lines []byte
	for k, i := range order {
		rewards, scores = append(rewards, out[k].judge), append(scores, out[k].score)
		kinds, regimes = append(kinds, fakeKinds[i]), append(regimes, fakeRegime[i])
		b, err := json.Marshal(map[string]any{
			"prompt": fakePrompts[i], "reference": fakeRefs[i], "completion": out[k].completion,
			"judge": out[k].judge, "score": out[k].score,
			"start_completion": fakeStart[i].completion, "start_judge": fakeStart[i].judge,
		})
		if err != nil {
			t.Fatal(err)
		}
		lines = append(append(lines, b...), '\n')
	}
	writeJSONFile(t, filepath.Join(tdir, "eval.json"), map[string]any{
		"schema": 2, "trial": id, "task": "toy", "model": "tiny", "algorithm": label, "seed": seed, "split": split,
		"metrics": map[string]float64{}, "rewards": rewards, "scores": scores, "kinds": kinds, "regimes": regimes,
	})
	if err := os.WriteFile(filepath.Join(tdir, "samples.jsonl"), lines, 0o644); err != nil {
		t.Fatal(err)
	}
	return tdir
}

func writeJSONFile(t *testing.T, path string, v any) {
	t.Helper()
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// fakeSweep is a sweep directory with grpo and sft at seeds 1 and 2,
// selection trials at seed 1000 on the dev split (which must never be
// picked: their prompts differ), and an unfinished trial.
func fakeSweep(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	runs := filepath.Join(dir, "runs")
	all := []int{0, 1, 2, 3}
	writeFakeTrial(t, runs, "grpo-s1-aaaa0001", "grpo", 1, "eval", all, []fakeLine{
		{" ba", 1, 1}, {"", -1, 0}, {" x|y", 1, 1}, {" 3\n3", 0, 0.5},
	})
	// sft's samples are in another order: prompts match by text.
	writeFakeTrial(t, runs, "sft-s1-bbbb0001", "sft", 1, "eval", []int{3, 2, 1, 0}, []fakeLine{
		{" It has 3 letters.", 0, 0.9}, {" x", -1, 0.1}, {" Usosi is the capital.", 0, 0.95}, {" It is ba.", 0, 0.9},
	})
	writeFakeTrial(t, runs, "grpo-s2-aaaa0002", "grpo", 2, "eval", all, []fakeLine{
		{" ab", -1, 0.1}, {" ", -1, 0}, {" x|y", 1, 1}, {" 3", 1, 1},
	})
	writeFakeTrial(t, runs, "sft-s2-bbbb0002", "sft", 2, "eval", all, []fakeLine{
		{" ba", 1, 1}, {" Usosi", 1, 1}, {" The word is x|y.", 0, 0.9}, {" 3", 1, 1},
	})
	for _, l := range []string{"grpo", "sft"} {
		writeFakeTrial(t, runs, l+"-s1000-cccc0001", l, 1000, "dev", []int{0}, []fakeLine{{" dev", 1, 1}})
	}
	writeJSONFile(t, filepath.Join(dir, "selection.json"), map[string]any{"metric": "reward", "seeds": []int{1000}})
	unfinished := filepath.Join(runs, "dpo-s1-dddd0001")
	os.MkdirAll(unfinished, 0o755)
	writeJSONFile(t, filepath.Join(unfinished, "manifest.json"), map[string]any{"trial": "dpo-s1-dddd0001", "label": "dpo", "seed": 1, "status": "running"})
	return dir
}

func TestCompareCommand(t *testing.T) {
	sw := fakeSweep(t)
	runs := filepath.Join(sw, "runs")
	grpo1, sft1, sft2 := filepath.Join(runs, "grpo-s1-aaaa0001"), filepath.Join(runs, "sft-s1-bbbb0001"), filepath.Join(runs, "sft-s2-bbbb0002")

	other := t.TempDir()
	noSamples := writeFakeTrial(t, other, "ppo-s1-eeee0001", "ppo", 1, "eval", []int{0}, []fakeLine{{" ba", 1, 1}})
	os.Remove(filepath.Join(noSamples, "samples.jsonl"))
	short := writeFakeTrial(t, other, "ppo-s1-eeee0002", "ppo", 1, "eval", []int{0, 1}, []fakeLine{{" ba", 1, 1}, {" Usosi", 1, 1}})
	dev := filepath.Join(runs, "grpo-s1000-cccc0001")
	badLine := writeFakeTrial(t, other, "ppo-s1-eeee0003", "ppo", 1, "eval", []int{0}, []fakeLine{{" ba", 1, 1}})
	os.WriteFile(filepath.Join(badLine, "samples.jsonl"), []byte(`{"prompt":"p","completion":"c"}`+"\n"), 0o644)

	for _, tc := range []struct {
		name   string
		args   []string
		code   int
		golden string // file under testdata/compare, for code 0
		stdout string // substring
		stderr string // substring
	}{
		{name: "two trials md", args: []string{grpo1, sft1}, golden: "trials.md.golden"},
		{name: "two trials text", args: []string{grpo1, sft1, "--format", "text", "--width", "48"}, golden: "trials.text.golden"},
		{name: "sweep smallest seed", args: []string{sw, "--prompts", "2"}, golden: "sweep-s1.md.golden", stderr: "unfinished trials left out: dpo-s1-dddd0001"},
		{name: "sweep seed 2", args: []string{"--seed", "2", sw, "--format", "text"}, golden: "sweep-s2.text.golden"},
		{name: "kind", args: []string{grpo1, sft1, "--kind", "reverse"}, stdout: "1 of 1 prompts of kind reverse (4 in all)"},
		{name: "regime", args: []string{sw, "--kind", "explore", "--offset", "1", "--prompts", "1"}, stdout: "1 of 3 prompts of kind explore, after the first 1 (4 in all)"},
		{name: "match", args: []string{grpo1, "--match", "Zuland"}, stdout: "| 2 | capital |"},
		{name: "label", args: []string{sw + ":sft", grpo1}, stdout: "| # | kind | prompt | reference | base | sft | grpo |"},
		{name: "same label twice", args: []string{sft1, sft2}, stdout: "| sft-s1-bbbb0001 | sft-s2-bbbb0002 |"},
		{name: "given twice", args: []string{grpo1, sw}, stdout: "| grpo | sft |", stderr: "grpo-s1-aaaa0001 is given twice"},

		{name: "missing samples", args: []string{grpo1, noSamples}, code: 2, stderr: filepath.Join(noSamples, "samples.jsonl") + ": no such file"},
		{name: "prompt missing", args: []string{grpo1, short}, code: 2, stderr: filepath.Join(short, "samples.jsonl") + ` has no prompt "Human: Echo 'x|y'.\nAssistant:"`},
		{name: "other split", args: []string{grpo1, dev}, code: 2, stderr: `split "dev" but grpo-s1-aaaa0001 is task "toy", split "eval"`},
		{name: "bad sample", args: []string{badLine}, code: 2, stderr: filepath.Join(badLine, "samples.jsonl") + `:1: no "judge" field`},
		{name: "unknown kind", args: []string{grpo1, "--kind", "poetry"}, code: 2, stderr: `--kind "poetry": not a kind or regime of ` + filepath.Join(grpo1, "eval.json") + " (kinds: capital, count, repeat, reverse; regimes: explore, imitate)"},
		{name: "no match", args: []string{grpo1, "--match", "nothing"}, code: 2, stderr: `is containing "nothing"`},
		{name: "offset too far", args: []string{grpo1, "--offset", "4"}, code: 2, stderr: "--offset 4: only 4 prompts"},
		{name: "bad format", args: []string{grpo1, "--format", "html"}, code: 2, stderr: `--format "html": want md or text`},
		{name: "narrow", args: []string{grpo1, "--width", "10"}, code: 2, stderr: "--width 10"},
		{name: "no runs", args: nil, code: 2, stderr: "at least one"},
		{name: "not a run", args: []string{other}, code: 2, stderr: "neither a trial directory nor a sweep directory"},
		{name: "no such dir", args: []string{filepath.Join(other, "nope")}, code: 2, stderr: "nope: no such directory"},
		{name: "unknown label", args: []string{sw + ":ppo"}, code: 2, stderr: `no finished main trial is labelled "ppo" (labels: grpo, sft)`},
		{name: "absent seed", args: []string{sw, "--seed", "7"}, code: 2, stderr: "no finished main trial has seed 7 (seeds: 1, 2)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, so, se := bench(t, append([]string{"compare"}, tc.args...)...)
			if code != tc.code || !strings.Contains(so, tc.stdout) || !strings.Contains(se, tc.stderr) {
				t.Fatalf("exit %d (want %d)\nstdout:\n%s\nstderr: %s\nwant stdout containing %q, stderr containing %q", code, tc.code, so, se, tc.stdout, tc.stderr)
			}
			if tc.golden != "" {
				checkGolden(t, filepath.Join("testdata", "compare", tc.golden), so)
			}
		})
	}
}

func checkGolden(t *testing.T, path, got string) {
	t.Helper()
	if *updateCompare {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update-compare to create it)", err)
	}
	if got != string(want) {
		t.Errorf("output differs from %s (-update-compare rewrites it):\ngot:\n%s\nwant:\n%s", path, got, want)
	}
}

func TestCompareWrapText(t *testing.T) {
	for _, tc := range []struct {
		in    string
		width int
		want  []string
	}{
		{"", 5, []string{""}},
		{"short", 5, []string{"short"}},
		{"one two three", 7, []string{"one two", "three"}},
		{"abcdefghij", 4, []string{"abcd", "efgh", "ij"}},
		{" lead space", 5, []string{" lead", "space"}},
		{"a\nb c d", 3, []string{"a", "b c", "d"}},
		{"ééééé ü", 5, []string{"ééééé", "ü"}},
	} {
		if got := wrapText(tc.in, tc.width); strings.Join(got, "|") != strings.Join(tc.want, "|") {
			t.Errorf("wrapText(%q, %d) = %q, want %q", tc.in, tc.width, got, tc.want)
		}
	}
}

func TestCompareVisible(t *testing.T) {
	for _, tc := range []struct{ in, text, md string }{
		{"", "∅", "∅"},
		{"  ", "␠␠", "␠␠"},
		{" \n", "␠⏎", "␠⏎"},
		{" a|b", " a|b", `a\|b`},
		{"x\ny", "x\ny", "x<br>y"},
		{"*<b>*\t", "*<b>*⇥", `\*\<b\>\*⇥`},
		{"bell\a", `bell\x07`, `bell\\x07`},
	} {
		if got := visible(tc.in); got != tc.text {
			t.Errorf("visible(%q) = %q, want %q", tc.in, got, tc.text)
		}
		if got := mdText(tc.in); got != tc.md {
			t.Errorf("mdText(%q) = %q, want %q", tc.in, got, tc.md)
		}
	}
}
