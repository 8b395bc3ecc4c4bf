package cli

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/google/renameio/v2"

	"github.com/grao-lab/grao/experiments/report"
	"github.com/grao-lab/grao/plots"
)

func jsonUnmarshal(raw []byte, v any) error { return json.Unmarshal(raw, v) }

func init() {
	register(command{
		name:    "report",
		summary: "paper-style tables (mean ± 95% CI, headline, tests, ablation) from results.csv",
		run:     runReport,
	})
}

// listFlag accepts a repeatable flag and comma-separated lists.
type listFlag []string

func (l *listFlag) String() string { return strings.Join(*l, ",") }
func (l *listFlag) Set(s string) error {
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			*l = append(*l, p)
		}
	}
	return nil
}

func runReport(args []string, stdout, stderr io.Writer) error {
	def := report.DefaultOptions()
	flags := flag.NewFlagSet("report", flag.ContinueOnError)
	format := flags.String("format", "md", "output format: md, tex or csv")
	target := flags.String("target", def.Target, "algorithm whose improvement is reported")
	var baselines, metrics listFlag
	flags.Var(&baselines, "baseline", "baseline algorithm (repeatable or comma list; default: all others)")
	metric := flags.String("metric", def.Metric, "metric of the headline and the significance tests")
	ablMetric := flags.String("ablation-metric", def.AblationMetric, "metric of the ablation table (paper Table 3 uses NAG)")
	flags.Var(&metrics, "metrics", "metrics shown as table rows (comma list; default: all)")
	ci := flags.String("ci", "bootstrap", "95% interval over seeds: bootstrap or t")
	resamples := flags.Int("resamples", def.Resamples, "bootstrap resamples per cell")
	test := flags.String("test", "t", "significance test: t (paired t / Welch) or perm (sign-flip / permutation)")
	seed := flags.Uint64("seed", def.Seed, "seed of the bootstrap and Monte-Carlo RNGs")
	out := flags.String("out", "", "write to FILE instead of standard output")
	flags.Usage = func() {
		fmt.Fprintln(flags.Output(), "usage: bench report DIR|results.csv [flags]\n\nDIR means DIR/results.csv. Flags may come before or after the path.")
		flags.PrintDefaults()
	}

	pos, err := parseInterleaved(flags, args, stderr)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		flags.Usage()
		return badInput("report: want exactly one DIR or results.csv, got %d", len(pos))
	}
	set := map[string]bool{}
	flags.Visit(func(f *flag.Flag) { set[f.Name] = true })

	f, err := report.ParseFormat(*format)
	if err != nil {
		return badInput("report: --format: %v", err)
	}
	opts := def
	opts.Target, opts.Baselines, opts.Metric, opts.AblationMetric = *target, baselines, *metric, *ablMetric
	opts.Metrics, opts.Resamples, opts.Seed = metrics, *resamples, *seed
	switch *ci {
	case "bootstrap":
		opts.CI = report.CIBootstrap
	case "t":
		opts.CI = report.CIStudentT
	default:
		return badInput("report: --ci %q: want bootstrap or t", *ci)
	}
	switch *test {
	case "t":
		opts.Test = report.TestT
	case "perm", "permutation":
		opts.Test = report.TestPermutation
	default:
		return badInput("report: --test %q: want t or perm", *test)
	}
	if *resamples < 100 {
		return badInput("report: --resamples %d: want at least 100", *resamples)
	}

	path := pos[0]
	if st, err := os.Stat(path); err == nil && st.IsDir() {
		path = filepath.Join(path, "results.csv")
	}
	res, err := report.ReadFile(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) || errors.Is(err, fs.ErrPermission) {
			return badInput("report: %v (want a sweep directory holding results.csv, or a results.csv file)", err)
		}
		return err
	}
	// A name the user typed must exist; defaults may be absent (the report
	// then says so in its notes).
	if set["target"] && !containsFold(res.Algorithms(), *target) {
		return badInput("report: --target %q: not in %s (algorithms: %s)", *target, path, strings.Join(res.Algorithms(), ", "))
	}
	for _, name := range []string{"metric", "ablation-metric"} {
		if v := flags.Lookup(name).Value.String(); set[name] && !containsFold(res.Metrics(), v) {
			return badInput("report: --%s %q: not in %s (metrics: %s)", name, v, path, strings.Join(res.Metrics(), ", "))
		}
	}
	notes, sw, err := studyOptionsSweep(filepath.Dir(path), res, nil, &opts)
	if err != nil {
		return err
	}
	// A sweep directory's own [report] settings apply unless a flag says
	// otherwise.
	if sw != nil {
		sw.Resolve()
		rs := sw.Report
		if !set["target"] && rs.Target != "" && containsFold(res.Algorithms(), rs.Target) {
			opts.Target = rs.Target
		}
		if !set["baseline"] && len(opts.Baselines) == 0 {
			opts.Baselines = sweepBaselines(res, rs.Baselines)
		}
		if !set["metric"] && rs.Metric != "" {
			opts.Metric = rs.Metric
		}
		if !set["metrics"] && len(rs.Metrics) > 0 && sw.Report.Metrics != nil {
			opts.Metrics = rs.Metrics
		}
	}
	rep, err := report.Build(res, opts)
	if err != nil {
		return badInput("report: %v", err)
	}
	rep.Notes = append(rep.Notes, notes...)
	var buf bytes.Buffer
	if err := rep.Render(&buf, f); err != nil {
		return err
	}
	// Markdown reports of a sweep directory link its figures (bench plot).
	if f == report.Markdown {
		if links := plots.MarkdownLinks(filepath.Dir(path)); links != "" {
			buf.WriteString("\n" + links)
		}
	}
	if *out == "" {
		_, err = stdout.Write(buf.Bytes())
		return err
	}
	return renameio.WriteFile(*out, buf.Bytes(), 0o644)
}

func containsFold(list []string, s string) bool {
	for _, l := range list {
		if strings.EqualFold(l, s) {
			return true
		}
	}
	return false
}
