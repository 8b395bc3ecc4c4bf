package cli

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/grao-lab/grao/algorithms/algotest"
	"github.com/grao-lab/grao/plugins"
)

func init() {
	register(command{
		name:    "plugin",
		summary: "check an external reward or algorithm plugin (plugin check [--algorithm] PATH [args...])",
		run:     runPlugin,
	})
}

const pluginUsage = `usage: bench plugin check [flags] PATH [ARGS...]

Launches the reward plugin PATH with ARGS the way a sweep does, then checks
the go-plugin handshake and health service, Describe, a sample batch scored
twice (identical results required if the plugin declares itself
deterministic), and times Score calls. Flags go before PATH; everything
after PATH is passed to the plugin. For a script, PATH is the interpreter:

  bench plugin check /usr/bin/python3 plugins/examples/python/plugin.py

With --algorithm, PATH is an algorithm plugin: it is configured with
--params (a JSON object), then the conformance suite every algorithm runs
checks it through the host (its gradient against finite differences of its
loss, shapes, no mutation, determinism, edge cases), and Loss is timed:

  bench plugin check --algorithm --params '{"g": 4}' /usr/bin/python3 plugins/examples/python/rloo_plugin.py

Exit status: 0 the plugin passed, 2 it did not (or bad usage).

flags:
`

func runPlugin(args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprint(stdout, pluginUsage)
		checkFlags(stdout).fs.PrintDefaults()
		if len(args) == 0 {
			return usageError{errors.New("plugin: missing subcommand (check)")}
		}
		return nil
	}
	if args[0] != "check" {
		return badInput("plugin: unknown subcommand %q (want check)", args[0])
	}
	return runPluginCheck(args[1:], stdout, stderr)
}

type pluginCheckFlags struct {
	fs           *flag.FlagSet
	name         string
	sha          string
	timeout      time.Duration
	startTimeout time.Duration
	noMTLS       bool
	batch, reps  int
	quiet        bool
	algorithm    bool
	params       string
}

func checkFlags(out io.Writer) *pluginCheckFlags {
	f := &pluginCheckFlags{fs: flag.NewFlagSet("plugin check", flag.ContinueOnError)}
	f.fs.SetOutput(out)
	f.fs.StringVar(&f.name, "name", "", "name used in messages (default: base name of PATH)")
	f.fs.StringVar(&f.sha, "sha256", "", "refuse to start PATH unless its SHA-256 is this (hex)")
	f.fs.DurationVar(&f.timeout, "timeout", 30*time.Second, "per-call timeout")
	f.fs.DurationVar(&f.startTimeout, "start-timeout", 30*time.Second, "timeout for launch and handshake")
	f.fs.BoolVar(&f.noMTLS, "no-mtls", false, "disable AutoMTLS (for plugins that cannot do TLS)")
	f.fs.IntVar(&f.batch, "batch", 64, "batch size of the timed calls")
	f.fs.IntVar(&f.reps, "reps", 20, "number of timed calls")
	f.fs.BoolVar(&f.quiet, "quiet", false, "do not forward the plugin's log lines")
	f.fs.BoolVar(&f.algorithm, "algorithm", false, "PATH is an algorithm plugin (default: a reward plugin)")
	f.fs.StringVar(&f.params, "params", "{}", "an algorithm plugin's parameters (JSON object)")
	return f
}

func runPluginCheck(args []string, stdout, stderr io.Writer) error {
	f := checkFlags(stderr)
	f.fs.Usage = func() {
		fmt.Fprint(stderr, pluginUsage)
		f.fs.PrintDefaults()
	}
	if err := parseFlags(f.fs, args, stderr); err != nil {
		return err
	}
	rest := f.fs.Args()
	if len(rest) == 0 {
		return badInput("plugin check: missing PATH of the plugin executable")
	}
	if f.batch <= 0 || f.reps <= 0 {
		return badInput("plugin check: -batch and -reps must be positive (got %d, %d)", f.batch, f.reps)
	}
	// Whatever happens below, no plugin process outlives this command.
	defer plugins.CleanupClients()

	cfg := plugins.Config{
		Name:            f.name,
		Path:            rest[0],
		Args:            rest[1:],
		SHA256:          f.sha,
		Timeout:         f.timeout,
		StartTimeout:    f.startTimeout,
		DisableAutoMTLS: f.noMTLS,
		MaxRestarts:     -1, // a crash during a check is a finding, not something to paper over
		LogOutput:       stderr,
	}
	if f.quiet {
		cfg.LogOutput = io.Discard
	}
	if f.algorithm {
		return checkAlgorithmPlugin(cfg, f, stdout)
	}
	rep := plugins.Check(context.Background(), cfg, plugins.CheckOptions{Batch: f.batch, Reps: f.reps, Out: stdout})
	if len(rep.Warnings) > 0 {
		fmt.Fprintf(stdout, "warnings: %d\n", len(rep.Warnings))
	}
	if !rep.OK() {
		fmt.Fprintln(stdout, "verdict: FAIL")
		return badInput("plugin %s is not usable: %s", rest[0], strings.Join(rep.Problems, "; "))
	}
	fmt.Fprintf(stdout, "verdict: OK (%s %s, protocol %d, %v per batch of %d)\n",
		rep.Info.Name, rep.Info.Version, rep.Protocol, rep.CallMedian.Round(time.Microsecond), rep.Batch)
	return nil
}

// checkAlgorithmPlugin configures an algorithm plugin, runs the
// conformance suite through the host and times Loss.
func checkAlgorithmPlugin(cfg plugins.Config, f *pluginCheckFlags, stdout io.Writer) error {
	var params map[string]any
	if err := json.Unmarshal([]byte(f.params), &params); err != nil {
		return badInput("plugin check: --params: %v (want a JSON object)", err)
	}
	alg, err := plugins.OpenAlgorithm(cfg, params)
	if err != nil {
		return badInput("plugin %s is not usable: %v", cfg.Path, err)
	}
	cj, _ := json.Marshal(alg.Config())
	fmt.Fprintf(stdout, "configure: %s, needs %+v\nconfig: %s\n", alg.Name(), alg.Needs(), cj)
	fails := algotest.Conformance(alg, algotest.Options{})
	for _, fl := range fails {
		fmt.Fprintf(stdout, "FAIL %s\n", fl)
	}
	if len(fails) > 0 {
		fmt.Fprintln(stdout, "verdict: FAIL")
		return badInput("plugin %s fails %d conformance check(s)", cfg.Path, len(fails))
	}
	b := algotest.RandomBatch(algotest.NewRand(1), alg.Needs(), f.batch, false)
	times := make([]time.Duration, f.reps)
	for i := range times {
		t0 := time.Now()
		if _, err := alg.Loss(b, algotest.GradBatch(b)); err != nil {
			return badInput("plugin %s: Loss: %v", cfg.Path, err)
		}
		times[i] = time.Since(t0)
	}
	slices.Sort(times)
	fmt.Fprintf(stdout, "verdict: OK (%s passes the conformance suite; Loss %v median over %d calls, %d prompts per batch)\n",
		alg.Name(), times[len(times)/2].Round(time.Microsecond), f.reps, f.batch)
	return nil
}
