package cli

import (
	"bytes"
	"flag"
	"fmt"
	"io"
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
	// Seed 0 is a valid seed, so only Visit tells "--seed 0" from no flag.
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
	// One write at the end, so that an error writing stdout is reported:
	// the renderers ignore theirs.
	var buf bytes.Buffer
	if o.format == "text" {
		tab.renderText(&buf, o.width)
	} else {
		tab.renderMarkdown(&buf)
	}
	_, err = stdout.Write(buf.Bytes())
	return err
}
