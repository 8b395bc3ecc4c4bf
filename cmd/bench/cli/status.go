package cli

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/grao-lab/grao/experiments/slurm"

	"github.com/grao-lab/grao/experiments/runner"
)

func init() {
	register(command{name: "status", summary: "each trial of a run directory: pending, running, done, failed, interrupted or lost", run: runStatus})
	register(command{name: "collect", summary: "rewrite a run directory's results.csv from its finished trials", run: runCollect})
	register(command{name: "cancel", summary: "cancel the Slurm jobs a run directory submitted", run: runCancel})
}

func runCancel(args []string, stdout, stderr io.Writer) error {
	dir, err := oneDir("cancel", args, stderr)
	if err != nil {
		return err
	}
	ids, err := slurm.Cancel(dir)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "cancelled Slurm jobs %s\n", strings.Join(ids, " "))
	return nil
}

// errNotDone is status's exit code 1: some trial is not done.
type errNotDone struct{ counts map[string]int }

func (e errNotDone) Error() string {
	return fmt.Sprintf("not every trial is done: %v", e.counts)
}

func runStatus(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("status", flag.ContinueOnError)
	asJSON := fs.Bool("json", false, "print JSON")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: bench status DIR [--json]\nexit code 0 when every trial is done, 1 otherwise, 2 for bad input")
		fs.PrintDefaults()
	}
	pos, err := parseInterleaved(fs, args, stderr)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		fs.Usage()
		return badInput("status: give one run directory")
	}
	sts, err := runner.Status(pos[0])
	if err != nil {
		return badInput("status: %v", err)
	}
	counts := map[string]int{}
	for _, s := range sts {
		counts[s.Status]++
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(sts); err != nil {
			return err
		}
	} else {
		tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "trial\tlabel\tseed\tstatus\tnote")
		for _, s := range sts {
			note := s.Error
			if s.ResumeStep > 0 {
				note = fmt.Sprintf("checkpoint after step %d; %s", s.ResumeStep, note)
			}
			fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%s\n", s.ID, s.Label, s.Seed, s.Status, note)
		}
		tw.Flush()
		fmt.Fprintf(stdout, "%d trials: %d done, %d running, %d pending, %d failed, %d interrupted, %d lost\n", len(sts),
			counts[runner.StatusDone], counts[runner.StatusRunning], counts[runner.StatusPending], counts[runner.StatusFailed],
			counts[runner.StatusInterrupted], counts[runner.StatusLost])
		if subs, err := slurm.Submissions(pos[0]); err == nil && len(subs) > 0 {
			if q, err := slurm.Queued(pos[0]); err == nil {
				fmt.Fprintf(stdout, "slurm: %d of this directory's jobs in the queue (%s)\n", len(q), strings.Join(q, " "))
			} else {
				fmt.Fprintf(stdout, "slurm: queue not readable: %v\n", err)
			}
		}
	}
	if counts[runner.StatusDone] != len(sts) {
		return errNotDone{counts}
	}
	return nil
}

func runCollect(args []string, stdout, stderr io.Writer) error {
	dir, err := oneDir("collect", args, stderr)
	if err != nil {
		return err
	}
	trials, err := runner.PlannedTrials(dir)
	if err != nil {
		return badInput("collect: %v", err)
	}
	if err := runner.Collect(dir, trials); err != nil {
		return err
	}
	sts, err := runner.Status(dir)
	if err != nil {
		return err
	}
	done := 0
	for _, s := range sts {
		if s.Status == runner.StatusDone {
			done++
		}
	}
	fmt.Fprintf(stderr, "%s/results.csv: %d of %d trials finished\n", dir, done, len(sts))
	return nil
}

// oneDir parses the arguments of a command whose only argument is a run
// directory.
func oneDir(name string, args []string, stderr io.Writer) (string, error) {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: bench %s DIR\n", name)
		fs.PrintDefaults()
	}
	pos, err := parseInterleaved(fs, args, stderr)
	if err != nil {
		return "", err
	}
	if len(pos) != 1 {
		fs.Usage()
		return "", badInput("%s: give one run directory", name)
	}
	return pos[0], nil
}
