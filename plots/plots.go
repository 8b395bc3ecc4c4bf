package plots

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/grao-lab/grao/algorithms"
)

// Options control All. The zero value is not useful; start from
// DefaultOptions.
type Options struct {
	Target         string   // algorithm whose improvement is shown (default: the registered target, GRAO)
	Formats        []string // any of "png", "svg", "pdf" (default png, svg)
	DPI            int      // PNG resolution (default 300)
	CI             CIMethod // bands and bars of absolute values (default t)
	Resamples      int      // bootstrap resamples (default 2000)
	Seed           uint64   // seeds the bootstrap RNGs (default 1)
	Metric         string   // relative-improvement and sensitivity metric (default "RAS")
	AblationMetric string   // final-metric bars of the ablation figure (default "NAG", as the paper's Table 3)
	OutDir         string   // default DIR/figures
}

// DefaultOptions are the settings `bench plot` uses.
func DefaultOptions() Options {
	return Options{Target: algorithms.DefaultTarget(), Formats: []string{"png", "svg"}, DPI: 300, CI: CIStudentT,
		Resamples: 2000, Seed: 1, Metric: "RAS", AblationMetric: "NAG"}
}

// Formats are the output formats All accepts.
var Formats = []string{"png", "svg", "pdf"}

// Figure is one written figure.
type Figure struct {
	Name    string   `json:"name"` // file name without extension, e.g. "dynamics_reward_helpful_tiny"
	Kind    string   `json:"kind"` // dynamics, improvement, loss, ablation, sensitivity, distribution
	Title   string   `json:"title"`
	Caption string   `json:"caption"` // what is plotted and how intervals are computed
	Files   []string `json:"files"`   // paths written, one per format
}

// Note says why a figure was skipped or what a figure chose (for example
// which grid point the curves show). Notes are not errors.
type Note struct {
	Figure string `json:"figure"` // figure name or kind
	Reason string `json:"reason"`
}

func (n Note) String() string { return n.Figure + ": " + n.Reason }

// IndexFile is written next to the figures; MarkdownLinks reads it.
const IndexFile = "index.json"

type index struct {
	Sweep   string   `json:"sweep"`
	Figures []Figure `json:"figures"` // Files relative to the figures directory
	Notes   []Note   `json:"notes"`
}

// OptionError is a bad Options value (unknown format, DPI out of range).
type OptionError struct{ Reason string }

func (e *OptionError) Error() string { return "options: " + e.Reason }

func optErr(format string, args ...any) error {
	return &OptionError{Reason: fmt.Sprintf(format, args...)}
}

func (o *Options) fill() error {
	d := DefaultOptions()
	if o.Target == "" {
		o.Target = d.Target
	}
	o.Target = canonicalLabel(o.Target)
	if len(o.Formats) == 0 {
		o.Formats = d.Formats
	}
	o.Formats = append([]string(nil), o.Formats...) // never write into the caller's slice
	for i, f := range o.Formats {
		f = strings.ToLower(strings.TrimSpace(f))
		if !contains(Formats, f) {
			return optErr("format %q: want one of %s", f, strings.Join(Formats, ", "))
		}
		o.Formats[i] = f
	}
	if o.DPI == 0 {
		o.DPI = d.DPI
	}
	if o.DPI < 50 || o.DPI > 1200 {
		return optErr("dpi %d: want 50–1200", o.DPI)
	}
	if o.Resamples == 0 {
		o.Resamples = d.Resamples
	}
	if o.Resamples < 100 {
		return optErr("resamples %d: want at least 100", o.Resamples)
	}
	if o.Metric == "" {
		o.Metric = d.Metric
	}
	if o.AblationMetric == "" {
		o.AblationMetric = d.AblationMetric
	}
	return nil
}

// All draws every figure whose data exist in the sweep directory dir and
// writes each in every requested format into opts.OutDir (default
// dir/figures), plus an index.json for MarkdownLinks. Figures without
// data are skipped with a Note. The error is a *NotSweepError when dir is
// not a sweep directory, a *ParseError for malformed input files, and
// otherwise an I/O or options error.
func All(dir string, opts Options) ([]Figure, []Note, error) {
	if err := opts.fill(); err != nil {
		return nil, nil, err
	}
	sd, err := load(dir)
	if err != nil {
		return nil, nil, err
	}
	figs, notes := build(sd, opts)
	notes = append(sd.notes, notes...)
	out := opts.OutDir
	if out == "" {
		out = filepath.Join(dir, "figures")
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return nil, notes, err
	}
	var done []Figure
	idx := index{Sweep: sd.Name, Notes: notes}
	for _, f := range figs {
		paths, err := f.save(out, opts.Formats, opts.DPI)
		if err != nil {
			return done, notes, err
		}
		f.Files = paths
		done = append(done, f.Figure)
		rel := f.Figure
		rel.Files = nil
		for _, p := range paths {
			rel.Files = append(rel.Files, filepath.Base(p))
		}
		idx.Figures = append(idx.Figures, rel)
	}
	b, err := json.MarshalIndent(idx, "", "  ")
	if err != nil {
		return done, notes, err
	}
	if err := os.WriteFile(filepath.Join(out, IndexFile), append(b, '\n'), 0o644); err != nil {
		return done, notes, err
	}
	return done, notes, nil
}

// MarkdownLinks returns Markdown embedding the figures that All last wrote
// into dir/figures (read from its index.json), with links relative to dir,
// so the text works in a report saved as dir/report.md. Each figure is an
// image (PNG when present) with its caption and links to the other
// formats. It returns "" when no figures were written.
func MarkdownLinks(dir string) string {
	b, err := os.ReadFile(filepath.Join(dir, "figures", IndexFile))
	if err != nil {
		return ""
	}
	var idx index
	if json.Unmarshal(b, &idx) != nil || len(idx.Figures) == 0 {
		return ""
	}
	var sb strings.Builder
	sb.WriteString("## Figures\n\n")
	for _, f := range idx.Figures {
		img := ""
		var others []string
		for _, p := range f.Files {
			if strings.HasSuffix(p, ".png") && img == "" {
				img = p
				continue
			}
			others = append(others, fmt.Sprintf("[%s](figures/%s)", strings.ToUpper(strings.TrimPrefix(filepath.Ext(p), ".")), p))
		}
		fmt.Fprintf(&sb, "**%s.** %s", mdEscape(strings.ReplaceAll(f.Title, "\n", " — ")), mdEscape(f.Caption))
		if len(others) > 0 {
			fmt.Fprintf(&sb, " (%s)", strings.Join(others, ", "))
		}
		sb.WriteString("\n\n")
		if img != "" {
			fmt.Fprintf(&sb, "![%s](figures/%s)\n\n", mdEscape(f.Name), img)
		}
	}
	return sb.String()
}

func mdEscape(s string) string {
	return strings.NewReplacer("[", `\[`, "]", `\]`, "*", `\*`, "_", `\_`).Replace(s)
}
