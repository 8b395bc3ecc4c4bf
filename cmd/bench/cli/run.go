package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/grao-lab/grao/experiments/slurm"

	"golang.org/x/term"

	"github.com/grao-lab/grao/experiments/report"
	"github.com/grao-lab/grao/experiments/runner"
	"github.com/grao-lab/grao/experiments/sweep"
	"github.com/grao-lab/grao/kernels"
)

func init() {
	register(command{name: "run", summary: "run a sweep (TOML) and print its report", run: runRun})
}

// slurmSettings starts from the sweep's [slurm] table; the flags given on
// the command line override it, and --sbatch lines come after the table's.
func slurmSettings(t sweep.SlurmSpec, flags slurm.Options, extra []string, fs *flag.FlagSet) slurm.Options {
	so := slurm.Options{Partition: t.Partition, Account: t.Account, Time: t.Time, Mem: t.Mem, Gres: t.Gres,
		CPUs: t.CPUs, ArrayLimit: t.ArrayLimit, Extra: append(slices.Clone(t.Sbatch), extra...), Wait: flags.Wait}
	if so.CPUs == 0 {
		so.CPUs = flags.CPUs // the flag's default
	}
	fs.Visit(func(f *flag.Flag) {
		switch f.Name {
		case "partition":
			so.Partition = flags.Partition
		case "account":
			so.Account = flags.Account
		case "time":
			so.Time = flags.Time
		case "mem":
			so.Mem = flags.Mem
		case "gres":
			so.Gres = flags.Gres
		case "cpus":
			so.CPUs = flags.CPUs
		case "array-limit":
			so.ArrayLimit = flags.ArrayLimit
		}
	})
	return so
}

// setFlag collects repeated --set KEY=VALUE overrides; unlike listFlag it
// does not split at commas, which TOML arrays contain.
type setFlag []string

func (s *setFlag) String() string { return strings.Join(*s, " ") }
func (s *setFlag) Set(v string) error {
	*s = append(*s, v)
	return nil
}

func runRun(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	out := fs.String("out", "", "output directory (default runs/<sweep name>)")
	workers := fs.Int("workers", 0, "trials run at once (0: one per two cores)")
	resume := fs.Bool("resume", false, "keep finished trials of an earlier run in --out and redo the rest")
	force := fs.Bool("force", false, "with --resume: continue a run made by another grao build or from an edited sweep file")
	only := fs.String("trial", "", "run only these trial IDs (comma-separated; for cluster array tasks)")
	planOnly := fs.Bool("plan", false, "write plan.json and print the trials without running them")
	base := fs.String("base", "", "build only the base model with this key (a cluster's base job) and run no trial")
	executor := fs.String("executor", "local", "where trials run: local (this process) or slurm (submitted as Slurm jobs)")
	var so slurm.Options
	fs.StringVar(&so.Partition, "partition", "", "slurm: partition")
	fs.StringVar(&so.Account, "account", "", "slurm: account")
	fs.StringVar(&so.Time, "time", "", "slurm: time limit of each job, e.g. 2:00:00")
	fs.StringVar(&so.Mem, "mem", "", "slurm: memory of each job, e.g. 4G")
	fs.StringVar(&so.Gres, "gres", "", "slurm: generic resources of each job, e.g. gpu:1")
	fs.IntVar(&so.CPUs, "cpus", 2, "slurm: CPUs per job (the job's GOMAXPROCS); overrides [slurm] cpus")
	fs.IntVar(&so.ArrayLimit, "array-limit", 0, "slurm: at most this many trials of an array at once (0: no limit)")
	var extra setFlag
	fs.Var(&extra, "sbatch", "slurm: an extra line for every job script, e.g. '#SBATCH --qos=long' (repeatable)")
	fs.BoolVar(&so.Wait, "wait", false, "slurm: wait until every job has ended (Ctrl-C cancels them)")
	tb := fs.Bool("tensorboard", false, "also write each trial's metrics as TensorBoard event files under OUT/tensorboard/<trial>/")
	var sets setFlag
	fs.Var(&sets, "set", "override one key of the sweep file, KEY=VALUE in TOML (repeatable): train.lr=3e-4, seeds=[1,2], algorithm.grao.beta=0.5")
	device := fs.String("device", "", "the engine that trains, as --set train.device=NAME: cpu, or cuda in a bench built with -tags grao_cuda")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: bench run SWEEP.toml [--set KEY=VALUE ...] [--device cpu|cuda] [--out DIR] [--workers N] [--resume [--force]] [--trial ID,...] [--plan] [--tensorboard] [--executor slurm [--partition P] [--time T] [--cpus N] [--mem M] [--gres G] [--array-limit N] [--sbatch LINE] [--wait]]")
		fs.PrintDefaults()
	}
	pos, err := parseInterleaved(fs, args, stderr)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		fs.Usage()
		return badInput("run: give exactly one sweep file, got %d arguments", len(pos))
	}
	path := pos[0]
	if err := kernels.LoadError(); err != nil {
		return badInput("%v", err)
	}
	if *device != "" {
		sets = append(sets, "train.device="+strconv.Quote(*device))
	}
	sw, err := sweep.ParseFileWith(path, sets)
	if err != nil {
		return usageError{err}
	}
	sw.Resolve()
	// With [select], the main trials are known only after selection:
	// the plan lists the selection trials, then the main trials with the
	// grid's defaults standing in for the values still to be chosen.
	trials, err := sw.SelectionTrials()
	if err != nil {
		return usageError{err}
	}
	main, err := sw.Expand()
	if err != nil {
		return usageError{err}
	}
	for _, w := range sw.Warnings() {
		fmt.Fprintf(stderr, "warning: %s\n", w)
	}
	if *out == "" {
		*out = filepath.Join("runs", sw.Name)
	}
	if *planOnly {
		if err := writableDir(*out); err != nil {
			return badInput("run: --out %s: %v", *out, err)
		}
		if err := sweep.WritePlan(filepath.Join(*out, "plan.json"), sw, append(trials, main...)); err != nil {
			return err
		}
		for _, tr := range trials {
			fmt.Fprintf(stdout, "%s\t%s\tseed %d\tselect on dev: %s\n", tr.ID, tr.Label, tr.Seed, formatVarying(tr.Selected))
		}
		if len(trials) > 0 {
			fmt.Fprintf(stdout, "then %d main trials with the chosen values (IDs once selection.json exists)\n", len(main))
			return nil
		}
		for _, tr := range main {
			fmt.Fprintf(stdout, "%s\t%s\tseed %d\t%s\n", tr.ID, tr.Label, tr.Seed, formatVarying(tr.Varying))
		}
		return nil
	}
	// An output directory that cannot be created or written is bad input,
	// found before any trial starts.
	if err := writableDir(*out); err != nil {
		return badInput("run: --out %s: %v", *out, err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	switch *executor {
	case "local":
	case "slurm":
		if *only != "" {
			return badInput("run: --trial runs one array task here; it does not combine with --executor slurm")
		}
		so = slurmSettings(sw.Slurm, so, extra, fs)
		so.Log = stderr
		opts := runner.Options{SweepPath: path, Out: *out, Resume: *resume, Force: *force, TensorBoard: *tb}
		sub, err := slurm.Submit(ctx, sw, main, opts, so)
		if errors.Is(err, runner.ErrExists) || errors.Is(err, runner.ErrMismatch) {
			return usageError{err}
		}
		if err != nil {
			return err
		}
		if !so.Wait || sub.Trials == 0 {
			return nil
		}
		fmt.Fprintf(stderr, "slurm: every job has ended; `bench status %s` lists the trials\n", *out)
		sts, err := runner.Status(*out)
		if err != nil {
			return err
		}
		notDone := 0
		for _, st := range sts {
			if st.Status != runner.StatusDone {
				notDone++
			}
		}
		if perr := printReport(stdout, *out, filepath.Join(*out, "results.csv"), sw); perr != nil {
			fmt.Fprintf(stderr, "report: %v\n", perr)
		}
		if notDone > 0 {
			return fmt.Errorf("%d of %d trials did not finish; see `bench status %s` and %s", notDone, len(sts), *out, filepath.Join(*out, "slurm", "logs"))
		}
		return nil
	default:
		return badInput("run: --executor must be local or slurm, got %q", *executor)
	}
	if *workers == 0 {
		*workers = sw.Workers // the sweep's own setting, unless --workers overrides it
	}
	opts := runner.Options{SweepPath: path, Out: *out, Workers: *workers, Resume: *resume, Force: *force, Log: stderr,
		Terminal: isTerminal(stderr), TensorBoard: *tb}
	if *only != "" {
		opts.Only = strings.Split(*only, ",")
	}
	if *base != "" {
		opts.Base = *base
		if _, err := runner.Run(ctx, sw, main, opts); err != nil {
			return fmt.Errorf("base %s: %w", *base, err)
		}
		fmt.Fprintf(stderr, "base %s: ready in %s\n", *base, filepath.Join(*out, "base", *base))
		return nil
	}
	w := opts.Workers
	if w <= 0 {
		w = runner.DefaultWorkers()
	}
	if len(trials) > 0 {
		fmt.Fprintf(stderr, "sweep %s: %d selection trials on the dev split, then %d main trials, %d at a time, into %s (BLAS: %s)\n",
			sw.Name, len(trials), len(main), w, *out, kernels.Current().Name())
	} else {
		fmt.Fprintf(stderr, "sweep %s: %d trials, %d at a time, into %s (BLAS: %s)\n", sw.Name, len(main), w, *out, kernels.Current().Name())
	}
	start := time.Now()
	sum, err := runner.RunSweep(ctx, sw, opts)
	if errors.Is(err, runner.ErrExists) || errors.Is(err, runner.ErrMismatch) {
		return usageError{err}
	}
	if err != nil && !errors.Is(err, context.Canceled) {
		return err
	}
	fmt.Fprintf(stderr, "sweep %s: %d ran, %d skipped, %d failed, %d interrupted in %s; results in %s\n",
		sw.Name, sum.Ran, sum.Skipped, sum.Failed, sum.Interrupted, time.Since(start).Round(time.Second), sum.Results)
	if sum.Interrupted > 0 || errors.Is(err, context.Canceled) {
		var again strings.Builder
		for _, v := range sets {
			fmt.Fprintf(&again, " --set '%s'", strings.ReplaceAll(v, "'", `'\''`))
		}
		return fmt.Errorf("interrupted: run `bench run %s%s --out %s --resume` to finish", path, again.String(), *out)
	}
	if perr := printReport(stdout, *out, sum.Results, sw); perr != nil {
		fmt.Fprintf(stderr, "report: %v\n", perr)
	}
	if sum.Failed > 0 {
		return fmt.Errorf("%d trial(s) failed; see runs/<trial>/manifest.json in %s", sum.Failed, *out)
	}
	return nil
}

// printReport renders the sweep's configured report as Markdown.
func printReport(w io.Writer, dir, results string, sw *sweep.Sweep) error {
	res, err := report.ReadFile(results)
	if err != nil {
		return err
	}
	opts := report.DefaultOptions()
	rs := sw.Report
	if rs.Target != "" {
		opts.Target = rs.Target
	}
	if rs.Metric != "" {
		opts.Metric = rs.Metric
	}
	opts.Baselines = sweepBaselines(res, rs.Baselines)
	opts.Metrics = rs.Metrics
	notes, err := studyOptions(dir, res, sw, &opts)
	if err != nil {
		return err
	}
	rep, err := report.Build(res, opts)
	if err != nil {
		return err
	}
	rep.Notes = append(rep.Notes, notes...)
	return rep.Render(w, report.Markdown)
}

func formatVarying(v map[string]string) string {
	var parts []string
	for k, val := range v {
		parts = append(parts, k+"="+val)
	}
	sort.Strings(parts)
	return strings.Join(parts, " ")
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// writableDir creates dir if needed and checks that a file can be created
// in it.
func writableDir(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return cause(err)
	}
	f, err := os.CreateTemp(dir, ".write-check-*")
	if err != nil {
		return cause(err)
	}
	f.Close()
	return os.Remove(f.Name())
}

// cause is the reason inside a path error (the caller names the path).
func cause(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
