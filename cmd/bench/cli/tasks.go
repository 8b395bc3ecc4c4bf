package cli

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/grao-lab/grao/core"
	"github.com/grao-lab/grao/experiments/tasks"
)

// bench tasks: inspect the benchmarks.
//
//	bench tasks [list]
//	bench tasks show NAME [--n 5] [--split train|eval|corpus] [--seed 1]
//	bench tasks export NAME --out F.jsonl [--split train|eval] [--seed 1]
//	bench tasks judge NAME [--split eval|train] [--seed 1] [--margin 0.05] [--json]
//
// NAME is a built-in task or a JSONL dataset path.
func init() {
	register(command{name: "tasks", summary: "list, show, export and check the judge of tasks", run: runTasks})
}

const tasksUsage = `usage:
  bench tasks [list]
  bench tasks show NAME [--n 5] [--split train|eval|corpus] [--seed S]
  bench tasks export NAME --out F.jsonl [--split train|eval] [--seed S]
  bench tasks judge NAME [--split eval|train] [--seed S] [--margin M] [--json]
  bench tasks calibrate NAME --checkpoint DIR [--band LO,HI | --all-levels] [--json] (see bench tasks calibrate -h)
NAME is a built-in task (see bench tasks list) or a JSONL dataset path.`

func runTasks(args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] == "list" {
		if len(args) > 1 {
			return badInput("tasks list takes no arguments")
		}
		for _, n := range tasks.Names() {
			fmt.Fprintf(stdout, "%-12s %s\n", n, tasks.Summary(n))
		}
		fmt.Fprintln(stdout, "(or a JSONL dataset path: prompt, chosen, rejected, optional meta per line)")
		return nil
	}
	switch args[0] {
	case "show":
		return tasksShow(args[1:], stdout, stderr)
	case "export":
		return tasksExport(args[1:], stdout, stderr)
	case "judge":
		return tasksJudge(args[1:], stdout, stderr)
	case "calibrate":
		return tasksCalibrate(args[1:], stdout, stderr)
	case "-h", "--help", "help":
		fmt.Fprintln(stdout, tasksUsage)
		return nil
	}
	fmt.Fprintln(stderr, tasksUsage)
	return badInput("tasks: unknown subcommand %q", args[0])
}

// taskFlags are the flags every tasks subcommand shares.
type taskFlags struct {
	seed         uint64
	split        string
	evalFraction float64
	margin       float64
	digits       int
}

func newTaskFlagSet(name string, tf *taskFlags, defaultSplit string) *flag.FlagSet {
	fs := flag.NewFlagSet("tasks "+name, flag.ContinueOnError)
	fs.Uint64Var(&tf.seed, "seed", 1, "generation / split seed")
	fs.StringVar(&tf.split, "split", defaultSplit, "which split")
	fs.Float64Var(&tf.evalFraction, "eval-fraction", 0.1, "eval share of a JSONL dataset")
	fs.Float64Var(&tf.margin, "margin", -1, "judge tie margin (default: the task's)")
	fs.IntVar(&tf.digits, "digits", 0, "arith: max operand digits (default 2)")
	return fs
}

// parseNamed accepts the task name before or after the flags.
func parseNamed(fs *flag.FlagSet, args []string, stderr io.Writer) (string, error) {
	var name string
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		name, args = args[0], args[1:]
	}
	if err := parseFlags(fs, args, stderr); err != nil {
		return "", err
	}
	rest := fs.Args()
	if name == "" && len(rest) > 0 {
		name, rest = rest[0], rest[1:]
	}
	if name == "" {
		return "", badInput("%s: missing task name", fs.Name())
	}
	if len(rest) > 0 {
		return "", badInput("%s: unexpected arguments %q", fs.Name(), rest)
	}
	return name, nil
}

func openTask(name string, tf *taskFlags, extra ...tasks.Option) (core.Task, error) {
	opts := extra
	if tf.margin >= 0 {
		opts = append(opts, tasks.WithTieMargin(tf.margin))
	}
	if tf.digits != 0 {
		opts = append(opts, tasks.WithDigits(tf.digits))
	}
	if _, builtin := builtinTask(name); !builtin {
		opts = append(opts, tasks.WithEvalFraction(tf.evalFraction))
	}
	t, err := tasks.Open(name, tf.seed, opts...)
	if err != nil {
		// Every failure here is the user's input: an unknown name, a bad
		// option, or a malformed dataset (file:line: reason).
		return nil, badInput("%w", err)
	}
	return t, nil
}

func builtinTask(name string) (string, bool) {
	for _, n := range tasks.Names() {
		if n == name {
			return n, true
		}
	}
	return "", false
}

func splitOf(t core.Task, split string) ([]core.Example, error) {
	switch split {
	case "train":
		return t.Train(), nil
	case "eval":
		return t.Eval(), nil
	case "dev":
		if d, ok := t.(tasks.Dever); ok && len(d.Dev()) > 0 {
			return d.Dev(), nil
		}
		return nil, badInput("--split dev: task %s has no dev split", t.Name())
	}
	return nil, badInput("--split must be train or eval, got %q", split)
}

func tasksShow(args []string, stdout, stderr io.Writer) error {
	var tf taskFlags
	fs := newTaskFlagSet("show", &tf, "train")
	n := fs.Int("n", 5, "how many to show")
	name, err := parseNamed(fs, args, stderr)
	if err != nil {
		return err
	}
	if *n < 0 {
		return badInput("--n must be ≥ 0, got %d", *n)
	}
	t, err := openTask(name, &tf)
	if err != nil {
		return err
	}
	enc := json.NewEncoder(stdout)
	enc.SetEscapeHTML(false)
	if tf.split == "corpus" {
		docs := t.Corpus()
		for _, d := range docs[:min(*n, len(docs))] {
			if err := enc.Encode(d); err != nil {
				return err
			}
		}
		return nil
	}
	exs, err := splitOf(t, tf.split)
	if err != nil {
		return err
	}
	for _, ex := range exs[:min(*n, len(exs))] {
		if err := enc.Encode(ex); err != nil {
			return err
		}
	}
	return nil
}

func tasksExport(args []string, stdout, stderr io.Writer) error {
	var tf taskFlags
	fs := newTaskFlagSet("export", &tf, "train")
	out := fs.String("out", "", "output JSONL file (- for stdout)")
	name, err := parseNamed(fs, args, stderr)
	if err != nil {
		return err
	}
	if *out == "" {
		return badInput("tasks export: --out is required")
	}
	t, err := openTask(name, &tf)
	if err != nil {
		return err
	}
	exs, err := splitOf(t, tf.split)
	if err != nil {
		return err
	}
	if *out == "-" {
		return tasks.WriteJSONL(stdout, exs)
	}
	f, err := os.Create(*out)
	if err != nil {
		return err
	}
	if err := tasks.WriteJSONL(f, exs); err != nil {
		f.Close()
		return fmt.Errorf("%s: %w", *out, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("%s: %w", *out, err)
	}
	fmt.Fprintf(stderr, "wrote %d %s examples of %s to %s\n", len(exs), tf.split, t.Name(), *out)
	return nil
}

func tasksJudge(args []string, stdout, stderr io.Writer) error {
	var tf taskFlags
	fs := newTaskFlagSet("judge", &tf, "eval")
	asJSON := fs.Bool("json", false, "print JSON")
	name, err := parseNamed(fs, args, stderr)
	if err != nil {
		return err
	}
	t, err := openTask(name, &tf)
	if err != nil {
		return err
	}
	exs, err := splitOf(t, tf.split)
	if err != nil {
		return err
	}
	st, err := tasks.MeasureJudge(context.Background(), t, exs)
	if err != nil {
		return err
	}
	if *asJSON {
		return json.NewEncoder(stdout).Encode(struct {
			Task  string `json:"task"`
			Split string `json:"split"`
			Seed  uint64 `json:"seed"`
			Judge string `json:"judge"`
			tasks.JudgeStats
		}{t.Name(), tf.split, tf.seed, t.Judge().Describe().Name, st})
	}
	fmt.Fprintf(stdout, "task %s, %s split (seed %d), judge %s\n", t.Name(), tf.split, tf.seed, t.Judge().Describe().Name)
	fmt.Fprintf(stdout, "  examples               %d (%d applicable)\n", st.N, st.Applicable)
	fmt.Fprintf(stdout, "  chosen over rejected   %6.2f%%\n", 100*st.ChosenOverRejected)
	fmt.Fprintf(stdout, "  rejected over chosen   %6.2f%%\n", 100*st.RejectedOverChosen)
	fmt.Fprintf(stdout, "  chosen ties itself     %6.2f%%\n", 100*st.ChosenTiesItself)
	fmt.Fprintf(stdout, "  mean score chosen      %.3f\n", st.MeanScoreChosen)
	fmt.Fprintf(stdout, "  mean score rejected    %.3f\n", st.MeanScoreRejected)
	return nil
}
