package cli

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/grao-lab/grao/experiments/runner"
	"github.com/grao-lab/grao/experiments/sweep"
)

// compareSample is one line of a trial's samples.jsonl. The pointers tell
// a missing field from a zero one.
type compareSample struct {
	Prompt     *string  `json:"prompt"`
	Reference  string   `json:"reference"`
	Completion *string  `json:"completion"`
	Judge      *float64 `json:"judge"`
	Score      float64  `json:"score"`
	Start      string   `json:"start_completion"`
	StartJudge float64  `json:"start_judge"`
}

// compareRun is one column: a finished trial's eval samples.
type compareRun struct {
	title   string // column heading: the label, or the trial ID when labels repeat
	trial   string
	samples string // path of samples.jsonl, for messages
	evPath  string
	ev      runner.EvalFile
	lines   []compareSample
	// byPrompt lists the lines of each prompt text in eval order, so that a
	// prompt the eval set holds twice is matched occurrence by occurrence.
	byPrompt map[string][]int
}

// compareExpand turns one RUN argument into trial directories.
func compareExpand(arg string, o compareOptions) ([]string, []string, error) {
	const want = "want a trial directory holding samples.jsonl or a sweep directory holding runs/"
	st, err := os.Stat(arg)
	if err != nil {
		// DIR:LABEL only when the whole argument names nothing, so that a
		// directory whose name has a colon still works.
		if i := strings.LastIndexByte(arg, ':'); i > 0 && isDir(filepath.Join(arg[:i], "runs")) {
			var labels listFlag
			_ = labels.Set(arg[i+1:]) // never fails
			if len(labels) == 0 {
				return nil, nil, badInput("compare: %s: no label after ':'", arg)
			}
			return expandSweep(arg[:i], labels, o)
		}
		if errors.Is(err, fs.ErrNotExist) {
			return nil, nil, badInput("compare: %s: no such directory (%s)", arg, want)
		}
		return nil, nil, badInput("compare: %v", err)
	}
	switch {
	case !st.IsDir():
		return nil, nil, badInput("compare: %s: not a directory (%s)", arg, want)
	case fileExists(filepath.Join(arg, "samples.jsonl")):
		return []string{arg}, nil, nil
	case isDir(filepath.Join(arg, "runs")):
		return expandSweep(arg, nil, o)
	case fileExists(filepath.Join(arg, "manifest.json")) || fileExists(filepath.Join(arg, "eval.json")):
		return nil, nil, badInput("compare: %s: no such file: the trial has no eval samples (unfinished?)", filepath.Join(arg, "samples.jsonl"))
	}
	return nil, nil, badInput("compare: %s: neither a trial directory nor a sweep directory (%s)", arg, want)
}

func isDir(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.IsDir()
}

// readCompareJSON reads a JSON file into v. A missing file comes back as
// fs.ErrNotExist, unwrapped, because what it means differs by file (an
// unfinished trial, no selection yet); any other failure is bad input.
func readCompareJSON(path string, v any) error {
	raw, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return err
	}
	if err != nil {
		return badInput("compare: %v", err)
	}
	if err := json.Unmarshal(raw, v); err != nil {
		return badInput("compare: %s: %v", path, err)
	}
	return nil
}

// expandSweep lists the finished main trials of a sweep directory at one
// seed, one per label (all of them when a grid gives a label several).
// Selection trials are left out: they evaluate on the dev split, so their
// prompts are not the main trials' ones.
func expandSweep(dir string, labels []string, o compareOptions) ([]string, []string, error) {
	entries, err := os.ReadDir(filepath.Join(dir, "runs"))
	if err != nil {
		return nil, nil, badInput("compare: %v", err)
	}
	isSelection, err := selectionSeeds(dir)
	if err != nil {
		return nil, nil, err
	}
	type trial struct {
		id   string
		seed uint64
	}
	byLabel := map[string][]trial{}
	seeds := map[uint64]bool{}
	var unfinished []string
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		var m runner.Manifest
		err := readCompareJSON(filepath.Join(dir, "runs", e.Name(), "manifest.json"), &m)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, nil, err
		}
		if isSelection(m.Seed) || len(labels) > 0 && !slices.Contains(labels, m.Label) {
			continue
		}
		if m.Status != runner.StatusDone {
			unfinished = append(unfinished, e.Name())
			continue
		}
		byLabel[m.Label] = append(byLabel[m.Label], trial{e.Name(), m.Seed})
		seeds[m.Seed] = true
	}
	for _, l := range labels {
		if len(byLabel[l]) == 0 {
			return nil, nil, badInput("compare: %s: no finished main trial is labelled %q (labels: %s)", dir, l, strings.Join(doneLabels(dir, isSelection), ", "))
		}
	}
	if len(seeds) == 0 {
		return nil, nil, badInput("compare: %s: no finished main trial under runs/", dir)
	}
	present := make([]uint64, 0, len(seeds))
	for s := range seeds {
		present = append(present, s)
	}
	slices.Sort(present)
	seed := present[0]
	if o.seedSet {
		if !seeds[o.seed] {
			return nil, nil, badInput("compare: %s: no finished main trial has seed %d (seeds: %s)", dir, o.seed, joinUints(present))
		}
		seed = o.seed
	}
	// Labels named on the command line keep their order; otherwise
	// columns are in label order, so the output does not depend on the
	// directory listing.
	names := labels
	if len(names) == 0 {
		for l := range byLabel {
			names = append(names, l)
		}
		sort.Strings(names)
	}
	var dirs, notes []string
	if len(unfinished) > 0 {
		notes = append(notes, fmt.Sprintf("%s: unfinished trials left out: %s", dir, strings.Join(unfinished, ", ")))
	}
	for _, l := range names {
		n := len(dirs)
		for _, t := range byLabel[l] { // ReadDir order: by trial ID
			if t.seed == seed {
				dirs = append(dirs, filepath.Join(dir, "runs", t.id))
			}
		}
		if len(dirs) == n {
			notes = append(notes, fmt.Sprintf("%s: %q has no finished trial with seed %d; left out", dir, l, seed))
		}
	}
	return dirs, notes, nil
}

// selectionSeeds says which seeds are selection seeds: those selection.json
// records, or, before a selection has been written, the sweep default and
// above.
func selectionSeeds(dir string) (func(uint64) bool, error) {
	var sel runner.Selection
	err := readCompareJSON(filepath.Join(dir, runner.SelectionFile), &sel)
	if errors.Is(err, fs.ErrNotExist) {
		return func(s uint64) bool { return s >= sweep.DefaultSelectSeed }, nil
	}
	if err != nil {
		return nil, err
	}
	return func(s uint64) bool { return slices.Contains(sel.Seeds, s) }, nil
}

// doneLabels lists the labels of a sweep's finished main trials, for an
// error message (so errors reading them are beside the point).
func doneLabels(dir string, isSelection func(uint64) bool) []string {
	seen := map[string]bool{}
	entries, _ := os.ReadDir(filepath.Join(dir, "runs"))
	for _, e := range entries {
		var m runner.Manifest
		err := readCompareJSON(filepath.Join(dir, "runs", e.Name(), "manifest.json"), &m)
		if err == nil && m.Status == runner.StatusDone && !isSelection(m.Seed) {
			seen[m.Label] = true
		}
	}
	out := make([]string, 0, len(seen))
	for l := range seen {
		out = append(out, l)
	}
	sort.Strings(out)
	return out
}

func joinUints(v []uint64) string {
	s := make([]string, len(v))
	for i, x := range v {
		s[i] = strconv.FormatUint(x, 10)
	}
	return strings.Join(s, ", ")
}

// loadCompareRun reads a trial directory's eval.json and samples.jsonl and
// checks that they describe the same prompts.
func loadCompareRun(dir string) (*compareRun, error) {
	r := &compareRun{samples: filepath.Join(dir, "samples.jsonl"), evPath: filepath.Join(dir, "eval.json"), byPrompt: map[string][]int{}}
	err := readCompareJSON(r.evPath, &r.ev)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, badInput("compare: %s: no such file: the trial has not finished", r.evPath)
	}
	if err != nil {
		return nil, err
	}
	if r.ev.Split == "" {
		r.ev.Split = sweep.DefaultEvalSplit // eval.json before schema 2
	}
	r.trial = r.ev.Trial
	if r.trial == "" {
		r.trial = filepath.Base(filepath.Clean(dir))
	}
	f, err := os.Open(r.samples)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, badInput("compare: %s: no such file: the trial has no eval samples", r.samples)
	}
	if err != nil {
		return nil, badInput("compare: %v", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 64<<20)
	for n := 1; sc.Scan(); n++ {
		if len(bytes.TrimSpace(sc.Bytes())) == 0 {
			continue
		}
		var s compareSample
		if err := json.Unmarshal(sc.Bytes(), &s); err != nil {
			return nil, badInput("compare: %s:%d: %v", r.samples, n, err)
		}
		for _, field := range []struct {
			name    string
			missing bool
		}{{"prompt", s.Prompt == nil}, {"completion", s.Completion == nil}, {"judge", s.Judge == nil}} {
			if field.missing {
				return nil, badInput("compare: %s:%d: no %q field", r.samples, n, field.name)
			}
		}
		r.byPrompt[*s.Prompt] = append(r.byPrompt[*s.Prompt], len(r.lines))
		r.lines = append(r.lines, s)
	}
	if err := sc.Err(); err != nil {
		return nil, badInput("compare: %s: %v", r.samples, err)
	}
	if len(r.lines) == 0 {
		return nil, badInput("compare: %s: no samples", r.samples)
	}
	for _, l := range []struct {
		name string
		n    int
	}{{"kinds", len(r.ev.Kinds)}, {"regimes", len(r.ev.Regimes)}} {
		if l.n != 0 && l.n != len(r.lines) {
			return nil, badInput("compare: %s has %d %s but %s has %d samples: not the same evaluation", r.evPath, l.n, l.name, r.samples, len(r.lines))
		}
	}
	return r, nil
}

// titleRuns heads each column with its label, or with its trial ID where
// labels repeat (the same algorithm at two seeds, say).
func titleRuns(runs []*compareRun) {
	count := map[string]int{}
	for _, r := range runs {
		count[r.ev.Algorithm]++
	}
	for _, r := range runs {
		r.title = r.ev.Algorithm
		if r.title == "" || count[r.title] > 1 {
			r.title = r.trial
		}
	}
}

// buildCompare picks the prompts from the first run and finds them in the
// others.
func buildCompare(runs []*compareRun, o compareOptions) (*compareTable, error) {
	first := runs[0]
	for _, r := range runs[1:] {
		if r.ev.Task != first.ev.Task || r.ev.Split != first.ev.Split {
			return nil, badInput("compare: %s is task %q, split %q but %s is task %q, split %q: runs on different prompts cannot be compared",
				r.trial, r.ev.Task, r.ev.Split, first.trial, first.ev.Task, first.ev.Split)
		}
	}
	t := &compareTable{runs: runs, total: len(first.lines), hasKinds: len(first.ev.Kinds) > 0}
	if o.kind != "" {
		if !t.hasKinds {
			return nil, badInput("compare: --kind %q: %s has no prompt kinds (task %q)", o.kind, first.evPath, first.ev.Task)
		}
		if !slices.Contains(first.ev.Kinds, o.kind) && !slices.Contains(first.ev.Regimes, o.kind) {
			return nil, badInput("compare: --kind %q: not a kind or regime of %s (kinds: %s; regimes: %s)",
				o.kind, first.evPath, strings.Join(distinct(first.ev.Kinds), ", "), strings.Join(distinct(first.ev.Regimes), ", "))
		}
	}
	var picked []int
	for i, s := range first.lines {
		if o.kind != "" && first.ev.Kinds[i] != o.kind && (len(first.ev.Regimes) == 0 || first.ev.Regimes[i] != o.kind) {
			continue
		}
		if o.match != "" && !strings.Contains(*s.Prompt, o.match) {
			continue
		}
		picked = append(picked, i)
	}
	t.matching = len(picked)
	var filter []string
	if o.kind != "" {
		filter = append(filter, "of kind "+o.kind)
	}
	if o.match != "" {
		filter = append(filter, "containing "+strconv.Quote(o.match))
	}
	t.filter = strings.Join(filter, " ")
	if len(picked) == 0 {
		return nil, badInput("compare: no prompt of %s is %s", first.samples, t.filter)
	}
	if o.offset >= len(picked) {
		return nil, badInput("compare: --offset %d: only %d prompts to show", o.offset, len(picked))
	}
	picked = picked[o.offset:]
	if o.prompts > 0 && len(picked) > o.prompts {
		picked = picked[:o.prompts]
	}
	t.offset = o.offset

	otherBase := make([]int, len(runs))
	for _, i := range picked {
		s := first.lines[i]
		row := compareRow{line: i + 1, prompt: *s.Prompt, reference: s.Reference,
			base: compareCell{text: s.Start, judge: s.StartJudge}}
		if t.hasKinds {
			row.kind = first.ev.Kinds[i]
		}
		occ := slices.Index(first.byPrompt[*s.Prompt], i)
		for k, r := range runs {
			at := r.byPrompt[*s.Prompt]
			if occ >= len(at) {
				return nil, badInput("compare: %s has no prompt %q (line %d of %s)", r.samples, *s.Prompt, i+1, first.samples)
			}
			rs := r.lines[at[occ]]
			row.cells = append(row.cells, compareCell{text: *rs.Completion, judge: *rs.Judge, score: rs.Score, hasScore: true})
			if rs.Start != s.Start || rs.StartJudge != s.StartJudge {
				otherBase[k]++
			}
		}
		t.rows = append(t.rows, row)
	}
	// The base column is only the first run's starting model; say so when
	// another run started elsewhere, lest its column be read against the
	// wrong base.
	for k, n := range otherBase {
		if n > 0 {
			t.notes = append(t.notes, fmt.Sprintf("%s started from a different model: its starting completions differ on %d of the %d prompts shown", runs[k].title, n, len(t.rows)))
		}
	}
	return t, nil
}

func distinct(v []string) []string {
	var out []string
	for _, s := range v {
		if s != "" && !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	sort.Strings(out)
	return out
}
