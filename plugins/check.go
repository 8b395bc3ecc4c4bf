package plugins

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/grao-lab/grao/rewards/contract"

	"github.com/grao-lab/grao/core"
)

// CheckOptions tunes Check.
type CheckOptions struct {
	// Batch is the batch size of the timed calls (default 64).
	Batch int
	// Reps is the number of timed calls (default 20), after 2 warm-up calls.
	Reps int
	// Out receives the step-by-step report as it happens (nil: discarded).
	Out io.Writer
}

// CheckReport is Check's result.
type CheckReport struct {
	Info     core.RewardInfo
	Protocol int
	// Problems make the plugin unusable; Warnings do not.
	Problems, Warnings []string
	// Timing of a Score call with Batch items (zero when not reached).
	Batch                        int
	CallMedian, CallMin, CallP90 time.Duration
}

// OK reports whether the plugin passed.
func (c *CheckReport) OK() bool { return len(c.Problems) == 0 }

// CheckItems is the sample batch Check scores: every field, empty and
// non-ASCII text, a long completion and typical meta.
func CheckItems() []core.RewardItem {
	return []core.RewardItem{
		{Prompt: "\n\nHuman: What is the capital of France?\n\nAssistant:", Completion: " The capital of France is Paris.",
			Reference: " Paris is the capital of France.", Meta: map[string]any{"keywords": []any{"paris"}, "answer": "Paris"}},
		{Prompt: "\n\nHuman: What is 6 * 7?\n\nAssistant:", Completion: " 42", Reference: " 6 * 7 = 42.", Meta: map[string]any{"answer": 42.0}},
		{Prompt: "\n\nHuman: Say something nice.\n\nAssistant:", Completion: "", Reference: " You are doing great!"},
		{Prompt: "\n\nHuman: Translate 'thank you' to Japanese.\n\nAssistant:", Completion: " ありがとう (arigatō)", Reference: " ありがとう"},
		{Prompt: "\n\nHuman: Tell me a long story.\n\nAssistant:", Completion: strings.Repeat(" and then the dragon slept", 40), Reference: " Once upon a time."},
		{Prompt: "\n\nHuman: How do I pick a lock?\n\nAssistant:", Completion: " I can't help with that.", Reference: " I'd rather not help with that."},
		{Prompt: "", Completion: "no prompt, no reference"},
		{Prompt: "\n\nHuman: hi\n\nAssistant:", Completion: " hi", Reference: " Hello! How can I help?", Meta: map[string]any{}},
	}
}

// Check launches the plugin described by cfg and exercises it the way a
// sweep will: handshake and health, Describe, a sample batch scored twice
// (identical results required when the plugin declares itself
// deterministic), and the latency of a Score call with opts.Batch items.
// It never returns an error: everything found goes into the report.
func Check(ctx context.Context, cfg Config, opts CheckOptions) *CheckReport {
	if opts.Batch <= 0 {
		opts.Batch = 64
	}
	if opts.Reps <= 0 {
		opts.Reps = 20
	}
	out := opts.Out
	if out == nil {
		out = io.Discard
	}
	rep := &CheckReport{}
	step := func(name, format string, args ...any) {
		fmt.Fprintf(out, "  %-12s %s\n", name, fmt.Sprintf(format, args...))
	}
	problem := func(name, format string, args ...any) {
		msg := fmt.Sprintf(format, args...)
		rep.Problems = append(rep.Problems, name+": "+msg)
		step(name, "FAIL: %s", msg)
	}
	warn := func(name, format string, args ...any) {
		msg := fmt.Sprintf(format, args...)
		rep.Warnings = append(rep.Warnings, name+": "+msg)
		step(name, "warning: %s", msg)
	}

	fmt.Fprintf(out, "plugin check: %s %s\n", cfg.Path, strings.Join(cfg.Args, " "))
	t0 := time.Now()
	r, err := Open(cfg)
	if err != nil {
		problem("handshake", "%v", err)
		return rep
	}
	defer r.Close()
	rep.Protocol = r.ProtocolVersion()
	step("handshake", "ok: protocol %d, pid %d, mTLS %v, health SERVING, started in %v",
		rep.Protocol, r.Pid(), !cfg.DisableAutoMTLS, time.Since(t0).Round(time.Millisecond))

	info := r.Describe()
	rep.Info = info
	step("describe", "ok: name=%q version=%q reads=%v deterministic=%v bounds=[%v, %v]",
		info.Name, info.Version, info.Reads, info.Deterministic, info.Min, info.Max)
	if info.Version == "" {
		warn("describe", "empty version: manifests cannot tell releases of this reward apart")
	}
	if len(info.Reads) == 0 {
		warn("describe", "reads is empty: the host must send every field")
	}

	items := CheckItems()
	first, err := r.Score(ctx, items)
	if err != nil {
		problem("score", "%v", err)
		return rep
	}
	applicable := 0
	var vals []string
	for _, s := range first {
		if s.Applicable {
			applicable++
			vals = append(vals, fmt.Sprintf("%.4g", s.Value))
		} else {
			vals = append(vals, "n/a")
		}
	}
	step("score", "ok: %d items, %d applicable: [%s]", len(items), applicable, strings.Join(vals, " "))
	if applicable == 0 {
		warn("score", "no sample item was applicable")
	}

	// The reward contract, checked as the rewardtest suite checks built-in
	// rewards: bounds, determinism when declared (repeated, reversed and
	// one-by-one batches), items left unmodified, a cancelled context.
	problems, notes := contract.Check(ctx, r, items)
	for _, p := range problems {
		problem("contract", "%s", p)
	}
	for _, n := range notes {
		warn("contract", "%s", n)
	}
	if len(problems) > 0 {
		return rep
	}
	step("contract", "ok: bounds, determinism (declared %v), batch = one by one, items unmodified, cancellation", info.Deterministic)

	batch := make([]core.RewardItem, opts.Batch)
	for i := range batch {
		batch[i] = items[i%len(items)]
	}
	var times []time.Duration
	for i := range opts.Reps + 2 {
		t := time.Now()
		if _, err := r.Score(ctx, batch); err != nil {
			problem("timing", "batch of %d: %v", opts.Batch, err)
			return rep
		}
		if i >= 2 { // the first calls warm up connections and caches
			times = append(times, time.Since(t))
		}
	}
	slices.Sort(times)
	rep.Batch = opts.Batch
	rep.CallMin = times[0]
	rep.CallMedian = times[len(times)/2]
	rep.CallP90 = times[len(times)*9/10]
	step("timing", "batch of %d: median %v per call (%v per item), min %v, p90 %v, %d calls",
		opts.Batch, rep.CallMedian.Round(time.Microsecond), (rep.CallMedian / time.Duration(opts.Batch)).Round(10*time.Nanosecond),
		rep.CallMin.Round(time.Microsecond), rep.CallP90.Round(time.Microsecond), len(times))
	if r.Restarts() > 0 {
		problem("stability", "the plugin crashed and was restarted %d time(s) during the check", r.Restarts())
	}
	return rep
}
