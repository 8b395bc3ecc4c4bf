package sweep

import (
	"maps"
	"slices"
	"strings"

	"github.com/grao-lab/grao/algorithms"
)

// Control arms a sweep adds with one key, controls = [...]: the evidence
// a reviewer asks for beside an RL method's gain.
const (
	// ControlBase evaluates the starting model without training (label
	// "base"): the floor every method is measured from.
	ControlBase = "base"
	// ControlSFTRef is SFT on the references (label "sft-ref"), added
	// when the sweep has no sft algorithm of its own; with one, that
	// algorithm is the control.
	ControlSFTRef = "sft-ref"
	// ControlRandomReward adds, for every algorithm that samples
	// (Needs().Samples > 0), the same algorithm with the same settings
	// and budget trained on a random reward (reward.kind = "random"),
	// labelled "<label>-random". It takes its parent's [select] choice
	// rather than running a selection of its own.
	ControlRandomReward = "random-reward"
)

// Controls lists the values of the controls key.
var Controls = []string{ControlBase, ControlSFTRef, ControlRandomReward}

// RandomSuffix ends the label of a random-reward arm.
const RandomSuffix = "-random"

// addControls appends the control arms to Algorithms once.
func (s *Sweep) addControls(el *errList) {
	if s.controlsAdded {
		return
	}
	s.controlsAdded = true
	seen := map[string]bool{}
	line := s.line("controls")
	var want []string
	for _, c := range s.Controls {
		switch {
		case !slices.Contains(Controls, c):
			el.add(line, "controls", "unknown control %q (have %s)", c, strings.Join(Controls, ", "))
		case seen[c]:
			el.add(line, "controls", "%q is listed twice", c)
		default:
			seen[c] = true
			want = append(want, c)
		}
	}
	n := len(s.Algorithms)
	imitation := algorithms.ImitationAlgorithm()
	if imitation == "" && (seen[ControlBase] || seen[ControlSFTRef]) {
		el.add(line, "controls", "the base and sft-ref controls need an imitation algorithm (SFT), and none is linked into this program")
		return
	}
	for _, c := range want {
		switch c {
		case ControlBase:
			s.Algorithms = append(s.Algorithms, AlgorithmSpec{Name: imitation, Label: "base", labelSet: true, Params: map[string]any{},
				line: line, index: len(s.Algorithms), control: ControlBase})
		case ControlSFTRef:
			if slices.ContainsFunc(s.Algorithms[:n], func(a AlgorithmSpec) bool { return a.Name == imitation }) {
				continue
			}
			s.Algorithms = append(s.Algorithms, AlgorithmSpec{Name: imitation, Label: "sft-ref", labelSet: true, Params: map[string]any{},
				line: line, index: len(s.Algorithms), control: ControlSFTRef})
		case ControlRandomReward:
			for i := range n {
				a := s.Algorithms[i]
				if !samples(a) {
					continue
				}
				arm := a
				arm.Params = maps.Clone(a.Params)
				arm.Label, arm.labelSet = a.label()+RandomSuffix, true
				arm.control, arm.parent = ControlRandomReward, a.label()
				arm.index = len(s.Algorithms)
				s.Algorithms = append(s.Algorithms, arm)
			}
		}
	}
}

// samples reports whether an algorithm draws completions (and so can be
// trained on a random reward). Invalid parameters are reported elsewhere.
func samples(a AlgorithmSpec) bool {
	p, err := fullParams(a.Name, a.Params)
	if err != nil {
		return false
	}
	alg, err := algorithms.New(a.Name, p)
	return err == nil && alg.Needs().Samples > 0
}

// gridLabel is the label whose grid and [select] keys apply to the arm:
// its parent's for a random-reward arm, its own otherwise.
func (a *AlgorithmSpec) gridLabel() string {
	if a.parent != "" {
		return a.parent
	}
	return a.label()
}

// selects reports whether the arm runs a [select] of its own: the base
// model trains nothing, and a random-reward arm takes its parent's choice.
func (a *AlgorithmSpec) selects() bool {
	return a.control != ControlBase && a.control != ControlRandomReward
}

// checkSlurm validates [slurm].
func (s *Sweep) checkSlurm(el *errList) {
	sl := s.Slurm
	if sl.CPUs < 0 {
		el.add(s.line("slurm.cpus"), "slurm.cpus", "must be ≥ 1 (or left out), got %d", sl.CPUs)
	}
	if sl.ArrayLimit < 0 {
		el.add(s.line("slurm.array_limit"), "slurm.array_limit", "must be ≥ 0, got %d", sl.ArrayLimit)
	}
	for i, l := range sl.Sbatch {
		if strings.ContainsAny(l, "\n\r") {
			el.add(s.line("slurm.sbatch"), "slurm.sbatch", "line %d holds a line break; give one script line per entry", i+1)
		}
	}
	for _, kv := range [][2]string{{"slurm.partition", sl.Partition}, {"slurm.account", sl.Account}, {"slurm.time", sl.Time}, {"slurm.mem", sl.Mem}, {"slurm.gres", sl.Gres}} {
		if strings.ContainsAny(kv[1], " \t\n\r'\"") {
			el.add(s.line(kv[0]), kv[0], "%q: an #SBATCH value holds no spaces or quotes", kv[1])
		}
	}
}

// checkPassK validates [passk].
func (s *Sweep) checkPassK(el *errList) {
	p := s.PassK
	if p.K == 0 {
		for _, k := range []string{"passk.temperature", "passk.seed", "passk.max_new_tokens"} {
			if s.set[k] {
				el.add(s.line(k), k, "has no effect without passk.k")
			}
		}
		if !s.set["passk.k"] {
			return
		}
	}
	if p.K < 1 || p.K > MaxPassK {
		el.add(s.line("passk.k"), "passk.k", "must be in [1, %d], got %d", MaxPassK, p.K)
	}
	if s.set["passk.temperature"] && !(p.Temperature > 0) {
		el.add(s.line("passk.temperature"), "passk.temperature", "must be > 0 (greedy answers are all alike), got %g", p.Temperature)
	}
	if s.set["passk.max_new_tokens"] && p.MaxNew < 1 {
		el.add(s.line("passk.max_new_tokens"), "passk.max_new_tokens", "must be ≥ 1, got %d", p.MaxNew)
	}
}

// PassKSettings is the resolved [passk] (K = 0: none), whether or not the
// sweep itself was resolved.
func (s *Sweep) PassKSettings() PassKSpec {
	ex := s.explicit(nil)
	p, tr, ev := s.PassK, s.Train, s.Eval
	resolveTrain(&tr, ex)
	resolveEval(&ev, ex)
	resolvePassK(&p, tr, ev, ex)
	return p
}

// resolvePassK fills [passk]'s defaults from the resolved train and eval
// settings.
func resolvePassK(p *PassKSpec, tr TrainSpec, ev EvalSpec, ex explicitFn) {
	if p.K == 0 {
		return
	}
	fillFloat(&p.Temperature, tr.Temperature, ex("passk.temperature"))
	if p.Seed == 0 && !ex("passk.seed") {
		p.Seed = 1
	}
	if p.MaxNew == 0 && !ex("passk.max_new_tokens") {
		p.MaxNew = ev.MaxNew
	}
}
