package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
	"unicode/utf8"

	"github.com/grao-lab/grao/experiments/runner"
	"github.com/grao-lab/grao/experiments/sweep"
)

func init() {
	register(command{
		name:    "compare",
		summary: "completions of several runs side by side for the same eval prompts, with their rewards",
		run:     runCompare,
	})
}

// compareOptions are the flags of bench compare that shape its output.
type compareOptions struct {
	prompts, offset int
	kind, match     string
	seed            uint64
	seedSet         bool
	format          string
	width           int
}

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

// compareCell is one completion with its judge reward (−1, 0, +1 against
// the reference) and, for trained runs, its rubric score.
type compareCell struct {
	text     string
	judge    float64
	score    float64
	hasScore bool
}

// compareRow is one shown prompt.
type compareRow struct {
	line      int // 1-based line in the first run's samples.jsonl
	kind      string
	prompt    string
	reference string
	base      compareCell
	cells     []compareCell
}

// compareTable is everything the renderers print.
type compareTable struct {
	runs     []*compareRun
	rows     []compareRow
	matching int    // prompts left after --kind and --match
	total    int    // prompts of the first run
	filter   string // --kind and --match in words, for the heading
	offset   int
	hasKinds bool
	notes    []string
}

func runCompare(args []string, stdout, stderr io.Writer) error {
	flags := flag.NewFlagSet("compare", flag.ContinueOnError)
	var o compareOptions
	flags.IntVar(&o.prompts, "prompts", 8, "number of prompts shown (0: all)")
	flags.IntVar(&o.offset, "offset", 0, "skip this many of the prompts left after --kind and --match")
	flags.StringVar(&o.kind, "kind", "", "only prompts of this kind or regime (e.g. reverse, explore)")
	flags.StringVar(&o.match, "match", "", "only prompts whose text contains this")
	flags.Uint64Var(&o.seed, "seed", 0, "seed of the trials a sweep directory contributes (default: its smallest main seed)")
	flags.StringVar(&o.format, "format", "md", "output format: md (one Markdown table) or text (aligned blocks for a terminal)")
	flags.IntVar(&o.width, "width", 100, "line width of --format text; longer completions wrap")
	flags.Usage = func() {
		fmt.Fprintln(flags.Output(), `usage: bench compare RUN... [flags]

RUN is a trial directory (holding samples.jsonl), a sweep directory (holding
runs/; one column per label, for the trials of --seed) or DIR:LABEL[,LABEL...]
(only those labels of a sweep directory). Prompts are matched by their text;
the base column is the first run's starting model. Flags may come before or
after the runs.`)
		flags.PrintDefaults()
	}
	pos, err := parseInterleaved(flags, args, stderr)
	if err != nil {
		return err
	}
	flags.Visit(func(f *flag.Flag) { o.seedSet = o.seedSet || f.Name == "seed" })
	if len(pos) == 0 {
		flags.Usage()
		return badInput("compare: want at least one trial or sweep directory")
	}
	switch {
	case o.format != "md" && o.format != "text":
		return badInput("compare: --format %q: want md or text", o.format)
	case o.prompts < 0:
		return badInput("compare: --prompts %d: want 0 (all) or more", o.prompts)
	case o.offset < 0:
		return badInput("compare: --offset %d: want 0 or more", o.offset)
	case o.width < 40:
		return badInput("compare: --width %d: want at least 40", o.width)
	}

	var dirs []string
	for _, arg := range pos {
		d, notes, err := compareExpand(arg, o)
		if err != nil {
			return err
		}
		for _, n := range notes {
			fmt.Fprintf(stderr, "note: %s\n", n)
		}
		dirs = append(dirs, d...)
	}
	var runs []*compareRun
	seen := map[string]bool{}
	for _, d := range dirs {
		r, err := loadCompareRun(d)
		if err != nil {
			return err
		}
		// Trial IDs hash the whole configuration, so one ID in two sweeps
		// (a shared baseline) is one result: show it once.
		if seen[r.trial] {
			fmt.Fprintf(stderr, "note: %s is given twice; shown once\n", r.trial)
			continue
		}
		seen[r.trial] = true
		runs = append(runs, r)
	}
	if len(runs) == 0 {
		return badInput("compare: no trial to show")
	}
	titleRuns(runs)
	tab, err := buildCompare(runs, o)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	if o.format == "text" {
		tab.renderText(&buf, o.width)
	} else {
		tab.renderMarkdown(&buf)
	}
	_, err = stdout.Write(buf.Bytes())
	return err
}

// compareExpand turns one RUN argument into trial directories.
func compareExpand(arg string, o compareOptions) ([]string, []string, error) {
	const want = "want a trial directory holding samples.jsonl or a sweep directory holding runs/"
	st, err := os.Stat(arg)
	if err != nil {
		// DIR:LABEL only when the whole argument names nothing, so that a
		// directory whose name has a colon still works.
		if i := strings.LastIndexByte(arg, ':'); i > 0 && isDir(filepath.Join(arg[:i], "runs")) {
			var labels []string
			for _, l := range strings.Split(arg[i+1:], ",") {
				if l = strings.TrimSpace(l); l != "" {
					labels = append(labels, l)
				}
			}
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
		path := filepath.Join(dir, "runs", e.Name(), "manifest.json")
		raw, err := os.ReadFile(path)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, nil, badInput("compare: %v", err)
		}
		var m runner.Manifest
		if err := json.Unmarshal(raw, &m); err != nil {
			return nil, nil, badInput("compare: %s: %v", path, err)
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
	path := filepath.Join(dir, runner.SelectionFile)
	raw, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return func(s uint64) bool { return s >= sweep.DefaultSelectSeed }, nil
	}
	if err != nil {
		return nil, badInput("compare: %v", err)
	}
	var sel runner.Selection
	if err := json.Unmarshal(raw, &sel); err != nil {
		return nil, badInput("compare: %s: %v", path, err)
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
		raw, err := os.ReadFile(filepath.Join(dir, "runs", e.Name(), "manifest.json"))
		if err == nil && json.Unmarshal(raw, &m) == nil && m.Status == runner.StatusDone && !isSelection(m.Seed) {
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
	raw, err := os.ReadFile(r.evPath)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, badInput("compare: %s: no such file: the trial has not finished", r.evPath)
	}
	if err != nil {
		return nil, badInput("compare: %v", err)
	}
	if err := json.Unmarshal(raw, &r.ev); err != nil {
		return nil, badInput("compare: %s: %v", r.evPath, err)
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

// heading says which prompts are shown, out of how many.
func (t *compareTable) heading() string {
	first := t.runs[0]
	h := fmt.Sprintf("%d of %d prompts", len(t.rows), t.matching)
	if t.filter != "" {
		h += " " + t.filter
	}
	if t.offset > 0 {
		h += fmt.Sprintf(", after the first %d", t.offset)
	}
	if t.matching != t.total {
		h += fmt.Sprintf(" (%d in all)", t.total)
	}
	return fmt.Sprintf("%s · task %s · split %s · base: the starting model of %s", h, first.ev.Task, first.ev.Split, first.trial)
}

// compareStat is a column's summary over the shown prompts.
type compareStat struct{ reward, wins float64 }

func (t *compareTable) stats() (base compareStat, runs []compareStat) {
	runs = make([]compareStat, len(t.runs))
	add := func(s *compareStat, c compareCell) {
		s.reward += c.judge
		if c.judge > 0 {
			s.wins++
		}
	}
	for _, r := range t.rows {
		add(&base, r.base)
		for k, c := range r.cells {
			add(&runs[k], c)
		}
	}
	return base, runs
}

func (t *compareTable) summary(s compareStat) (reward, ras string) {
	n := float64(len(t.rows))
	// Signed, so that a column of mean rewards lines up.
	return fmt.Sprintf("%+.3f", s.reward/n), fmt.Sprintf("%.1f%% (%d/%d)", 100*s.wins/n, int(s.wins), len(t.rows))
}

// judgeString prints a judge reward: −1, 0 and +1 without decimals.
func judgeString(v float64) string {
	if v == 0 {
		return "0"
	}
	return fmt.Sprintf("%+g", v)
}

func (t *compareTable) renderMarkdown(w io.Writer) {
	fmt.Fprintf(w, "%s\n\n", t.heading())
	head := []string{"#"}
	align := []string{"--:"}
	if t.hasKinds {
		head, align = append(head, "kind"), append(align, "---")
	}
	head = append(head, "prompt", "reference", "base")
	align = append(align, "---", "---", "---")
	for _, r := range t.runs {
		head, align = append(head, mdEscape(r.title)), append(align, "---")
	}
	mdRow(w, head)
	mdRow(w, align)
	for _, r := range t.rows {
		cells := []string{strconv.Itoa(r.line)}
		if t.hasKinds {
			cells = append(cells, mdEscape(r.kind))
		}
		cells = append(cells, mdText(r.prompt), mdText(r.reference), mdCell(r.base))
		for _, c := range r.cells {
			cells = append(cells, mdCell(c))
		}
		mdRow(w, cells)
	}
	fmt.Fprintf(w, "\nA cell is the completion, its judge reward against the reference (−1, 0, +1) and its score; ∅ is an empty completion, ␠ a space of a blank one. RAS is the share of these prompts whose reward is +1.\n\n")
	mdRow(w, []string{"run", "trial", "mean reward", "RAS"})
	mdRow(w, []string{"---", "---", "--:", "--:"})
	base, stats := t.stats()
	rew, ras := t.summary(base)
	mdRow(w, []string{"base", "start of " + mdEscape(t.runs[0].trial), rew, ras})
	for k, r := range t.runs {
		rew, ras := t.summary(stats[k])
		mdRow(w, []string{mdEscape(r.title), mdEscape(r.trial), rew, ras})
	}
	for _, n := range t.notes {
		fmt.Fprintf(w, "\nNote: %s.\n", mdEscape(n))
	}
}

func mdRow(w io.Writer, cells []string) {
	fmt.Fprintf(w, "| %s |\n", strings.Join(cells, " | "))
}

func mdCell(c compareCell) string {
	s := mdText(c.text) + "<br>**" + judgeString(c.judge) + "**"
	if c.hasScore {
		s += " · " + strconv.FormatFloat(c.score, 'f', 2, 64)
	}
	return s
}

// mdText makes a completion safe in a table cell: one line, no Markdown or
// HTML of its own, and visible when it is empty or only blanks.
func mdText(s string) string {
	s = visible(s)
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		// Markdown drops a cell's outer blanks anyway; blank completions
		// were made visible above.
		lines[i] = mdEscape(strings.TrimSpace(l))
	}
	return strings.Join(lines, "<br>")
}

var mdReplacer = strings.NewReplacer(
	`\`, `\\`, "`", "\\`", "*", `\*`, "_", `\_`, "[", `\[`, "]", `\]`,
	"<", `\<`, ">", `\>`, "|", `\|`, "~", `\~`, "&", "&amp;",
)

func mdEscape(s string) string { return mdReplacer.Replace(s) }

// visible shows what a terminal or a Markdown viewer would hide: an empty
// completion, one of blanks only, and control characters.
func visible(s string) string {
	s = strings.ReplaceAll(s, "\r\n", "\n")
	if s == "" {
		return "∅"
	}
	blank := strings.TrimSpace(s) == ""
	var b strings.Builder
	for _, r := range s {
		switch {
		case blank && r == ' ':
			b.WriteString("␠")
		case blank && r == '\n':
			b.WriteString("⏎")
		case r == '\t':
			b.WriteString("⇥")
		case r == '\n':
			b.WriteRune(r)
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&b, "\\x%02x", r)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

func (t *compareTable) renderText(w io.Writer, width int) {
	fmt.Fprintf(w, "%s\n", t.heading())
	names := []string{"prompt", "reference", "base"}
	for _, r := range t.runs {
		names = append(names, r.title)
	}
	nameW := 0
	for _, n := range names {
		nameW = max(nameW, utf8.RuneCountInString(n))
	}
	judgeW, scoreW := 1, 4
	for _, r := range t.rows {
		judgeW = max(judgeW, utf8.RuneCountInString(judgeString(r.base.judge)))
		for _, c := range r.cells {
			judgeW = max(judgeW, utf8.RuneCountInString(judgeString(c.judge)))
			scoreW = max(scoreW, len(strconv.FormatFloat(c.score, 'f', 2, 64)))
		}
	}
	textCol := nameW + 2 + judgeW + 2 + scoreW + 2
	wrapAt := max(width-textCol, 20)
	block := func(left, text string) {
		for i, l := range wrapText(visible(text), wrapAt) {
			if i > 0 {
				left = ""
			}
			fmt.Fprintf(w, "%s%s\n", padRight(left, textCol), l)
		}
	}
	for _, r := range t.rows {
		fmt.Fprintf(w, "\n#%d", r.line)
		if r.kind != "" {
			fmt.Fprintf(w, " · %s", r.kind)
		}
		fmt.Fprintln(w)
		block("prompt", r.prompt)
		block("reference", r.reference)
		cell := func(name string, c compareCell) {
			sc := ""
			if c.hasScore {
				sc = strconv.FormatFloat(c.score, 'f', 2, 64)
			}
			block(fmt.Sprintf("%s  %*s  %*s", padRight(name, nameW), judgeW, judgeString(c.judge), scoreW, sc), c.text)
		}
		cell("base", r.base)
		for k, c := range r.cells {
			cell(t.runs[k].title, c)
		}
	}
	plural := "s"
	if len(t.rows) == 1 {
		plural = ""
	}
	fmt.Fprintf(w, "\nover the %d prompt%s shown (reward: judge against the reference; RAS: share of +1)\n", len(t.rows), plural)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "run\tmean reward\tRAS\ttrial")
	base, stats := t.stats()
	rew, ras := t.summary(base)
	fmt.Fprintf(tw, "base\t%s\t%s\tstart of %s\n", rew, ras, t.runs[0].trial)
	for k, r := range t.runs {
		rew, ras := t.summary(stats[k])
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", r.title, rew, ras, r.trial)
	}
	tw.Flush()
	for _, n := range t.notes {
		fmt.Fprintf(w, "note: %s\n", n)
	}
}

func padRight(s string, n int) string {
	if k := utf8.RuneCountInString(s); k < n {
		return s + strings.Repeat(" ", n-k)
	}
	return s
}

// wrapText splits text into lines of at most width runes, at the last
// space that fits where there is one; its own line breaks stay.
func wrapText(s string, width int) []string {
	var out []string
	for _, line := range strings.Split(s, "\n") {
		r := []rune(line)
		for len(r) > width {
			cut, skip := width, 0
			for i := width; i > 0; i-- {
				if r[i] == ' ' {
					cut, skip = i, 1
					break
				}
			}
			out = append(out, string(r[:cut]))
			r = r[cut+skip:]
		}
		out = append(out, string(r))
	}
	return out
}
