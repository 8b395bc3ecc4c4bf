package report

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// Outcomes are one trial's per-prompt evaluation, as eval.json stores it:
// the judge reward of the final policy and of the starting model, the
// rubric score, and each prompt's kind and regime.
type Outcomes struct {
	Trial, Task, Model, Label string
	Seed                      int64
	Rewards, StartRewards     []float64
	Scores                    []float64
	Kinds, Regimes            []string
}

// evalFile is the part of a trial's eval.json the report reads.
type evalFile struct {
	Trial        string    `json:"trial"`
	Rewards      []float64 `json:"rewards"`
	StartRewards []float64 `json:"start_rewards"`
	Scores       []float64 `json:"scores"`
	Kinds        []string  `json:"kinds"`
	Regimes      []string  `json:"regimes"`
}

// PromptData holds the per-prompt outcomes of a sweep's trials, keyed by
// task, model, column label (as the tables name it) and seed.
type PromptData struct {
	cells map[[3]string]map[int64]*Outcomes
}

// ReadPromptData reads DIR/runs/<trial>/eval.json for every trial of res.
// Trials without one (a hand-written results.csv) are skipped; missing
// reports whether any was.
func ReadPromptData(dir string, res *Results) (pd *PromptData, missing int, err error) {
	pd = &PromptData{cells: map[[3]string]map[int64]*Outcomes{}}
	err = eachTrialFile(dir, res, "eval.json", func(r Row, label string, raw []byte) error {
		if raw == nil {
			missing++
			return nil
		}
		var ev evalFile
		if err := json.Unmarshal(raw, &ev); err != nil {
			return fmt.Errorf("trial %s: eval.json: %w", r.Trial, err)
		}
		o := &Outcomes{Trial: r.Trial, Task: r.Task, Model: r.Model, Label: label, Seed: r.Seed,
			Rewards: ev.Rewards, StartRewards: ev.StartRewards, Scores: ev.Scores, Kinds: ev.Kinds, Regimes: ev.Regimes}
		k := [3]string{r.Task, r.Model, label}
		if pd.cells[k] == nil {
			pd.cells[k] = map[int64]*Outcomes{}
		}
		pd.cells[k][r.Seed] = o
		return nil
	})
	if err != nil {
		return nil, 0, err
	}
	return pd, missing, nil
}

// eachTrial calls f once per trial of res with its first row and its
// column label, in file order.
func eachTrial(res *Results, f func(r Row, label string) error) error {
	labels := labelRows(res)
	seen := map[string]bool{}
	for i, r := range res.Rows {
		if seen[r.Trial] {
			continue
		}
		seen[r.Trial] = true
		if err := f(r, labels[i].label); err != nil {
			return err
		}
	}
	return nil
}

// eachTrialFile is eachTrial with the content of DIR/runs/<trial>/<name>
// (nil when the file does not exist).
func eachTrialFile(dir string, res *Results, name string, f func(r Row, label string, raw []byte) error) error {
	return eachTrial(res, func(r Row, label string) error {
		raw, err := os.ReadFile(filepath.Join(dir, "runs", r.Trial, name))
		if errors.Is(err, fs.ErrNotExist) {
			raw, err = nil, nil
		}
		if err != nil {
			return err
		}
		return f(r, label, raw)
	})
}

// Get returns one column's outcomes by seed (nil if none).
func (pd *PromptData) Get(task, model, label string) map[int64]*Outcomes {
	if pd == nil {
		return nil
	}
	return pd.cells[[3]string{task, model, label}]
}

// CompareSpec is one pre-registered comparison of column A with B.
type CompareSpec struct {
	A, B string
	// Metric is RAS (strict wins, %), win_tie (wins or ties, %), NAG
	// (beats the starting model, %), reward (judge reward) or score
	// (rubric score). Empty: RAS.
	Metric string
	// Kinds restricts the prompts to these kinds or regimes; empty: all.
	Kinds []string
	// Predict is ">" (A above B), "<" or "" (none).
	Predict string
	Why     string
}

// PerPromptMetrics are the metrics a comparison can use.
var PerPromptMetrics = []string{"RAS", "win_tie", "NAG", "reward", "score"}

// binaryMetric reports whether a metric is a per-prompt success rate
// (McNemar applies).
func binaryMetric(m string) bool { return m == "RAS" || m == "win_tie" || m == "NAG" }

// outcome is a prompt's value under metric m, or NaN when the trial
// lacks what it needs. Rates are in percent.
func (o *Outcomes) outcome(m string, i int) float64 {
	switch m {
	case "RAS":
		return 100 * b2f(o.Rewards[i] > 0)
	case "win_tie":
		return 100 * b2f(o.Rewards[i] >= 0)
	case "NAG":
		if i >= len(o.StartRewards) {
			return math.NaN()
		}
		return 100 * b2f(o.Rewards[i] > o.StartRewards[i])
	case "reward":
		return o.Rewards[i]
	case "score":
		if i >= len(o.Scores) {
			return math.NaN()
		}
		return o.Scores[i]
	}
	return math.NaN()
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// selects reports whether prompt i belongs to the kinds (or regimes).
func (o *Outcomes) selects(kinds []string, i int) bool {
	if len(kinds) == 0 {
		return true
	}
	return (i < len(o.Kinds) && slices.Contains(kinds, o.Kinds[i])) ||
		(i < len(o.Regimes) && slices.Contains(kinds, o.Regimes[i]))
}

// PromptComparison is a comparison in one task × model cell: tested with
// seeds and prompts both random (CrossedT) and over seeds (paired t on
// per-seed means), each Holm-corrected over the list, with the minimum
// detectable effect of each design; for success rates McNemar on the
// discordant prompt × seed pairs is shown beside them.
type PromptComparison struct {
	Spec         CompareSpec
	Task, Model  string
	A, B         string // column labels as found
	Seeds        int
	Prompts      int // per seed, after the kinds filter
	MeanA, MeanB float64
	Diff         float64 // MeanA − MeanB, in metric units (points for rates)

	// Crossed is the crossed seeds × prompts test (CrossedT); CrossedMDE
	// its minimum detectable effect, (t₀.₉₇₅ + t₀.₈)·SE with its df.
	Crossed     PairedResult
	CrossedHolm float64
	CrossedMDE  float64

	McNemarB, McNemarC int
	McNemarP           float64 // NaN unless binary
	McNemarHolm        float64

	SeedP     float64 // paired t on per-seed means; NaN with < 2 seeds or zero variance
	SeedHolm  float64
	SeedMDE   float64
	SeedNote  string
	Verdict   string // "A > B", "A < B" or "not separated"
	Predicted string // "as predicted", "against the prediction", "not separated", "" (no prediction)
	Note      string // why it could not be tested
	// ControlNote says whether the winner beats its own random-reward
	// control (when it has one); a winner that does not is not separated.
	ControlNote string
	// va and vb are the outcomes tested, [seed][prompt].
	va, vb [][]float64
}

// Alpha is the family-wise level of the comparisons' verdicts.
const Alpha = 0.05

// Power is the power at which minimum detectable effects are stated.
const Power = 0.8

// ComparePrompts runs the comparisons in every task × model cell where
// both columns have per-prompt data, Holm-corrects each family (crossed,
// McNemar, seed-level) over all of them, and gives verdicts: separated
// only when the crossed and the seed-level tests both reject at Alpha
// after correction, in the same direction. The tests are deterministic.
func ComparePrompts(pd *PromptData, tasks, models, labels []string, specs []CompareSpec) []PromptComparison {
	var out []PromptComparison
	for _, sp := range specs {
		if sp.Metric == "" {
			sp.Metric = "RAS"
		}
		a, okA := findFold(labels, sp.A)
		b, okB := findFold(labels, sp.B)
		for _, task := range tasks {
			for _, model := range models {
				c := PromptComparison{Spec: sp, Task: task, Model: model, A: a, B: b,
					McNemarP: math.NaN(), SeedP: math.NaN(), CrossedHolm: math.NaN(), McNemarHolm: math.NaN(), SeedHolm: math.NaN(),
					CrossedMDE: math.NaN(), SeedMDE: math.NaN(), Crossed: PairedResult{P: math.NaN()}}
				if !okA || !okB {
					c.Note = fmt.Sprintf("no column %q or %q", sp.A, sp.B)
					out = append(out, c)
					break
				}
				ca, cb := pd.Get(task, model, a), pd.Get(task, model, b)
				if ca == nil && cb == nil {
					continue
				}
				c.compute(ca, cb)
				out = append(out, c)
			}
		}
	}
	holm := func(get func(*PromptComparison) *float64, p func(*PromptComparison) float64) {
		ps := make([]float64, len(out))
		for i := range out {
			ps[i] = p(&out[i])
		}
		for i, h := range Holm(ps) {
			*get(&out[i]) = h
		}
	}
	holm(func(c *PromptComparison) *float64 { return &c.CrossedHolm }, func(c *PromptComparison) float64 { return c.Crossed.P })
	holm(func(c *PromptComparison) *float64 { return &c.McNemarHolm }, func(c *PromptComparison) float64 { return c.McNemarP })
	holm(func(c *PromptComparison) *float64 { return &c.SeedHolm }, func(c *PromptComparison) float64 { return c.SeedP })
	for i := range out {
		out[i].verdict()
	}
	return out
}

func (c *PromptComparison) compute(ca, cb map[int64]*Outcomes) {
	var seeds []int64
	for s := range ca {
		if _, ok := cb[s]; ok {
			seeds = append(seeds, s)
		}
	}
	slices.Sort(seeds)
	if len(seeds) == 0 {
		c.Note = "no seed has both columns' per-prompt results"
		return
	}
	var va, vb [][]float64
	var seedDiff []float64
	for _, s := range seeds {
		oa, ob := ca[s], cb[s]
		if len(oa.Rewards) != len(ob.Rewards) {
			c.Note = fmt.Sprintf("seed %d: %d vs %d evaluated prompts (different splits?)", s, len(oa.Rewards), len(ob.Rewards))
			return
		}
		var ra, rb []float64
		for i := range oa.Rewards {
			if !oa.selects(c.Spec.Kinds, i) {
				continue
			}
			x, y := oa.outcome(c.Spec.Metric, i), ob.outcome(c.Spec.Metric, i)
			if math.IsNaN(x) || math.IsNaN(y) {
				c.Note = fmt.Sprintf("metric %s is not available per prompt in these runs", c.Spec.Metric)
				return
			}
			ra, rb = append(ra, x), append(rb, y)
			if binaryMetric(c.Spec.Metric) {
				switch {
				case x > y:
					c.McNemarB++
				case x < y:
					c.McNemarC++
				}
			}
		}
		if len(ra) == 0 {
			c.Note = fmt.Sprintf("no prompt of kinds %s", strings.Join(c.Spec.Kinds, ", "))
			return
		}
		va, vb = append(va, ra), append(vb, rb)
		seedDiff = append(seedDiff, Mean(ra)-Mean(rb))
		c.MeanA += Mean(ra) / float64(len(seeds))
		c.MeanB += Mean(rb) / float64(len(seeds))
	}
	c.Seeds, c.Prompts = len(seeds), len(va[0])
	c.va, c.vb = va, vb
	c.Diff = c.MeanA - c.MeanB
	boot, err := CrossedT(va, vb)
	if err != nil {
		c.Note = err.Error()
		return
	}
	c.Crossed = boot
	if boot.SE > 0 { // no variation at all: nothing to say about power
		c.CrossedMDE = MDEFromSEDF(boot.SE, boot.DF, Alpha, Power)
	}
	if binaryMetric(c.Spec.Metric) {
		c.McNemarP = McNemar(c.McNemarB, c.McNemarC)
	}
	switch {
	case len(seedDiff) < 2:
		c.SeedNote = "one seed: no test over seeds"
	default:
		p, ok := pairedT(seedDiff)
		if ok {
			c.SeedP = p
		} else {
			c.SeedNote = "per-seed differences all equal"
		}
		if sd := SampleSD(seedDiff); sd > 0 {
			c.SeedMDE = MDEPairedT(sd, len(seedDiff), Alpha, Power)
		}
	}
}

func (c *PromptComparison) verdict() {
	c.Verdict = "not separated"
	if c.Note != "" {
		c.Verdict = "not tested"
		return
	}
	// McNemar does not gate: it treats prompt × seed pairs as independent,
	// so it answers whether these trained models differ, and the A/A
	// calibration shows it firing far above α between seeds of one
	// algorithm. The crossed test and the seed-level test do gate.
	if c.CrossedHolm < Alpha && c.SeedHolm < Alpha && c.Diff != 0 && (c.Crossed.Lo > 0) == (c.Diff > 0) && (c.Crossed.Hi < 0) == (c.Diff < 0) {
		c.Verdict = "A > B"
		if c.Diff < 0 {
			c.Verdict = "A < B"
		}
	}
	c.verdictPredicted()
}

// verdictPredicted sets Predicted from Verdict and the prediction.
func (c *PromptComparison) verdictPredicted() {
	c.Predicted = ""
	switch {
	case c.Spec.Predict == "":
	case c.Verdict == "not separated":
		c.Predicted = "not separated"
	case (c.Spec.Predict == ">") == (c.Diff > 0):
		c.Predicted = "as predicted"
	default:
		c.Predicted = "against the prediction"
	}
}
