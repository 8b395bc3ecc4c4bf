package sweep

import "github.com/grao-lab/grao/rewards"

// Sweep is a parsed sweep file (see the README's sweep reference). Zero
// values mean "default" unless the key is written in the file (so that
// weight_decay = 0 is possible); Resolve fills the defaults in.
type Sweep struct {
	Name  string   `toml:"name"`
	Seeds []uint64 `toml:"seeds"`
	// Workers bounds parallel trials (0: chosen from the cores).
	Workers    int             `toml:"workers"`
	Model      ModelSpec       `toml:"model"`
	Task       TaskSpec        `toml:"task"`
	Pretrain   PretrainSpec    `toml:"pretrain"`
	Train      TrainSpec       `toml:"train"`
	Eval       EvalSpec        `toml:"eval"`
	Reward     RewardSpec      `toml:"reward"`
	Algorithms []AlgorithmSpec `toml:"algorithm"`
	// Grid maps a dotted key to the values it takes, e.g.
	// "algorithm.grao.beta" = [0.3, 0.5] or "train.lr" = [1e-4, 3e-4].
	Grid map[string][]any `toml:"sweep"`
	// Select chooses hyper-parameters per algorithm on the dev split
	// before the main trials run (see SelectSpec).
	Select    SelectSpec    `toml:"select"`
	Calibrate CalibrateSpec `toml:"calibrate"`
	Report    ReportSpec    `toml:"report"`
	// PassK samples K answers per eval prompt from every finished
	// trial's final policy (and the base arm's model) for pass@k.
	PassK PassKSpec `toml:"passk,omitempty"`
	// Controls adds control arms: "base", "sft-ref", "random-reward"
	// (see ControlBase and the others).
	Controls []string `toml:"controls,omitempty"`
	// MemoryLimit ("16GiB") makes a trial whose estimated memory exceeds
	// it a validation error; without it, exceeding this machine's memory
	// is a warning. An executor setting: it never enters trial IDs.
	MemoryLimit string `toml:"memory_limit,omitempty"`
	// Slurm holds the scheduler settings of `bench run --executor slurm`
	// (its flags override them). Executor settings: never in trial IDs.
	Slurm SlurmSpec `toml:"slurm,omitempty"`

	warnings []string // set by Expand

	// Set by Parse; a Sweep built in Go has none of them, and then every
	// zero value means "default" and relative paths are relative to the
	// working directory.
	file string
	dir  string
	loc  *locator
	set  map[string]bool    // display keys written in the file (or by --set)
	sets []string           // the --set overrides, as given
	grid map[string]gridKey // where each grid key was written
	// selGrid: where each [select] grid key was written.
	selGrid map[string]gridKey
	// controlsAdded: the control arms are in Algorithms.
	controlsAdded bool
	// raw is the sweep as written, kept by Resolve: Expand starts every
	// trial from it, so that a grid over model.preset is not overridden by
	// sizes Resolve filled in from the default preset.
	raw *Sweep
}

// gridKey locates a [sweep] key for error messages.
type gridKey struct {
	key  string // canonical, e.g. train.lr
	disp string // as written, e.g. sweep."train.lr"
	line int
}

// ModelSpec picks the policy architecture: a preset, optionally overridden.
type ModelSpec struct {
	Preset  string `toml:"preset"` // tiny | small | medium (default small)
	DModel  int    `toml:"d_model"`
	NLayer  int    `toml:"n_layer"`
	NHead   int    `toml:"n_head"`
	Context int    `toml:"context"`
	// Label names the model in results (default: the preset name, or
	// "d<d>l<layers>" for explicit sizes).
	Label string `toml:"label"`
	// Path starts from an existing model directory instead of a
	// pre-trained preset: a grao checkpoint or a Hugging Face GPT-2
	// directory (relative to the sweep file). It is pretrain.checkpoint
	// under another name: Expand moves it there, so both give one trial.
	Path string `toml:"path,omitempty"`
	// VocabSize is the vocabulary of a model directory's tokenizer when
	// it is not grao's byte tokenizer (filled in by Expand).
	VocabSize int `toml:"vocab_size,omitzero" sweep:"resolved"`
}

// TaskSpec picks the dataset.
type TaskSpec struct {
	Name string `toml:"name"` // built-in task name or a .jsonl path (relative to the sweep file)
	// TrainSize/EvalSize override the built-in split sizes (0: default).
	TrainSize int     `toml:"train_size"`
	EvalSize  int     `toml:"eval_size"`
	TieMargin float64 `toml:"tie_margin"` // judge tie margin (0: default 0.05)
	Digits    int     `toml:"digits"`     // arith only
	// DataSeed fixes the generated data and splits (default 1), so that
	// trials with different training seeds see the same task.
	DataSeed uint64 `toml:"data_seed"`
	// DevSize carves a dev split of this many examples out of train's
	// prompt space (0: none); [select] evaluates on it.
	DevSize int `toml:"dev_size"`
	// Truncate is the policy for prompts that leave fewer than
	// max_new_tokens of room in the context: "none" (default: validation
	// rejects them) or "left" (keep the end; recorded in every trial).
	Truncate string `toml:"truncate"`
	// The skills task only. Kinds selects its kinds (default all); Levels
	// fixes a kind's difficulty level; Band [lo, hi] places every other
	// kind at the level whose base pass@1 is in the band, measured on
	// the base model before training (see [calibrate]).
	Kinds  []string       `toml:"kinds"`
	Levels map[string]int `toml:"levels"`
	Band   []float64      `toml:"band"`

	// Filled in by Expand for a JSONL dataset (not accepted in a sweep
	// file): Path is the absolute path to open (Name stays as written);
	// SHA256 is the file's content hash. The trial ID covers SHA256 but
	// not Path, so moving a checkout keeps IDs while editing the data
	// changes them.
	Path   string `toml:"path" sweep:"resolved"`
	SHA256 string `toml:"sha256" sweep:"resolved"`
}

// Source is what to open: Path when resolved, else Name (a built-in task).
func (t TaskSpec) Source() string {
	if t.Path != "" {
		return t.Path
	}
	return t.Name
}

// SlurmSpec is the [slurm] table: each job's resources and extra script
// lines (see docs/cluster.md). Zero values leave Slurm's defaults.
type SlurmSpec struct {
	Partition  string   `toml:"partition,omitempty"`
	Account    string   `toml:"account,omitempty"`
	Time       string   `toml:"time,omitempty"` // e.g. "2:00:00"
	Mem        string   `toml:"mem,omitempty"`  // e.g. "8G"
	Gres       string   `toml:"gres,omitempty"` // e.g. "gpu:1"
	CPUs       int      `toml:"cpus,omitempty"`
	ArrayLimit int      `toml:"array_limit,omitempty"`
	Sbatch     []string `toml:"sbatch,omitempty"` // extra script lines, e.g. "#SBATCH --qos=long"
}

// PretrainSpec describes the base model every algorithm starts from; it is
// built once per (model, task, pretrain) config and cached.
type PretrainSpec struct {
	Steps  int     `toml:"steps"`  // default 600
	Batch  int     `toml:"batch"`  // default 32
	LR     float64 `toml:"lr"`     // default 3e-3
	Warmup int     `toml:"warmup"` // default 30
	Seed   uint64  `toml:"seed"`   // default 1
	// Pack fills each pre-training sequence with several corpus documents
	// (default true): twice the text per step for documents of half the
	// context.
	Pack bool `toml:"pack"`
	// Checkpoint uses an existing base model instead (a directory,
	// relative to the sweep file; made absolute by Expand). Its shape is
	// the trial's [model], and its content is hashed into the trial's ID.
	Checkpoint string `toml:"checkpoint"`
	// CheckpointSHA256 is the digest of the checkpoint's config.json and
	// weights, filled in by Expand (a different file under the same path is
	// a different trial).
	CheckpointSHA256 string `toml:"checkpoint_sha256,omitempty" sweep:"resolved"`
}

// TrainSpec is the alignment phase shared by all algorithms of a trial.
type TrainSpec struct {
	Steps       int     `toml:"steps"`        // default 40
	Prompts     int     `toml:"prompts"`      // prompts per step, default 8
	LR          float64 `toml:"lr"`           // default 5e-4
	Warmup      int     `toml:"warmup"`       // default 0
	Schedule    string  `toml:"schedule"`     // constant | cosine (default constant)
	WeightDecay float64 `toml:"weight_decay"` // default 0.01 (the paper's)
	ClipNorm    float64 `toml:"clip_norm"`    // default 1.0
	Temperature float64 `toml:"temperature"`  // rollout temperature, default 0.7 (the paper's)
	TopK        int     `toml:"top_k"`
	TopP        float64 `toml:"top_p"`
	MaxNew      int     `toml:"max_new_tokens"` // default 48
	EvalEvery   int     `toml:"eval_every"`     // default steps/20
	// TemperedLogProbs computes the log-probs the loss sees (and the
	// behaviour and reference log-probs beside them) at the rollout
	// temperature, as TRL and verl divide logits by T (default true; only
	// algorithms that sample are affected).
	TemperedLogProbs bool `toml:"tempered_logprobs"`
	// CheckpointEvery saves the trial's training state every so many steps
	// (default steps/10; 0: never), so that --resume continues an
	// interrupted trial from its last checkpoint instead of its start. It
	// cannot change results, so it is not part of the trial's ID.
	CheckpointEvery int `toml:"checkpoint_every"`
	// Device names the engine that trains ("cpu" when empty; "cuda" in a
	// bench built with -tags grao_cuda). Engines round differently, so it
	// is part of the trial's ID (omitted for the CPU, keeping old IDs).
	Device string `toml:"device,omitempty"`
}

// EvalSpec fixes the held-out evaluation.
type EvalSpec struct {
	Prompts     int     `toml:"prompts"`        // default: every prompt of the split (else the first N)
	Split       string  `toml:"split"`          // eval (default) | dev
	Temperature float64 `toml:"temperature"`    // default 0 (greedy)
	MaxNew      int     `toml:"max_new_tokens"` // default 48
	Seed        uint64  `toml:"seed"`           // sampling seed when temperature > 0
}

// RewardSpec names the training reward: a registered reward kind without
// keys of its own — "judge" (the task's R ∈ {−1,0,+1}, default), "score"
// (the task's scalar rubric score), "dense" (the reference-relative
// partial-credit score s(o) − s(y), so R(y, y) = 0), "random" — or
// "combine", a weighted sum of parts of any registered kind (length,
// plugin, rm, …).
type RewardSpec struct {
	Kind  string       `toml:"kind"` // a registered kind, or combine
	Parts []RewardPart `toml:"part"`
}

// RewardPart is one weighted component of a combined reward: a table the
// reward kind it names owns (rewards.Spec, rewards.Register).
type RewardPart = rewards.Spec

// AlgorithmSpec is one [[algorithm]] table: a registered algorithm name,
// an optional label (column name in reports; default the name), and its
// parameters (every other key, passed to the algorithm's factory).
type AlgorithmSpec struct {
	Name   string
	Label  string
	Params map[string]any

	line     int // of the [[algorithm]] header
	index    int // 0-based position in the file
	labelSet bool
	lines    []paramLine
	// control is the control this arm is (Controls), parent the label of
	// the algorithm a random-reward arm controls.
	control, parent string
}

type paramLine struct {
	key  string
	line int
}

// paramLine returns the line of parameter key, or the table's.
func (a *AlgorithmSpec) paramLine(key string) int {
	for _, p := range a.lines {
		if p.key == key {
			return p.line
		}
	}
	return a.line
}

// ReportSpec configures the report printed at the end of a run.
type ReportSpec struct {
	Target    string   `toml:"target"`    // default grao
	Baselines []string `toml:"baselines"` // default: all other algorithms
	Metric    string   `toml:"metric"`    // default RAS
	Metrics   []string `toml:"metrics"`   // table rows (default RAS, NAG)
	// Compare is the study's pre-registered list of comparisons: tested
	// per prompt and over seeds, Holm-corrected over the list.
	Compare []CompareSpec `toml:"compare"`
}

// CompareSpec is one pre-registered comparison of algorithm A with B.
type CompareSpec struct {
	A string `toml:"a"` // algorithm label
	B string `toml:"b"`
	// Metric is a per-prompt metric: RAS (strict wins), win_tie (wins or
	// ties: correctness when the reference is correct), reward, score or
	// NAG. Default RAS.
	Metric string `toml:"metric"`
	// Kinds restricts the prompts to kinds or regimes ("explore",
	// "imitate"); empty: all prompts.
	Kinds []string `toml:"kinds"`
	// Predict is the registered direction: ">" (A above B), "<", or ""
	// (no prediction; two-sided either way).
	Predict string `toml:"predict"`
	// Why names the mechanism behind the prediction (shown in the report).
	Why string `toml:"why"`
}

// SelectSpec is [select]: per-algorithm hyper-parameter selection on the
// task's dev split, before the main trials. Grid keys take the [sweep]
// form ("train.lr" = [...], "algorithm.<label>.<param>" = [...]); every
// algorithm runs its applicable grid points on Seeds with eval.split =
// "dev", and the point with the best Metric (mean over seeds; the first
// in grid order on ties) becomes that algorithm's setting in the main
// trials. The test split is never used for selection.
type SelectSpec struct {
	Grid   map[string][]any `toml:"-"`
	Metric string           `toml:"metric"` // default reward (the mean judge reward)
	Seeds  []uint64         `toml:"seeds"`  // default [1000]
}

// PassKSpec is [passk]: after a trial finishes, K completions per eval
// prompt are drawn from its final policy and judged, and passk.json
// records per prompt how many were correct, for the unbiased pass@k
// (k ≤ K) of the report. It is not part of trial IDs: it reads the saved
// policy and changes no other result, so adding it to a finished sweep
// and resuming computes it without retraining.
type PassKSpec struct {
	K           int     `toml:"k"`              // samples per prompt, 1–1024 (0: no pass@k)
	Temperature float64 `toml:"temperature"`    // default train.temperature
	Seed        uint64  `toml:"seed"`           // default 1
	MaxNew      int     `toml:"max_new_tokens"` // default eval.max_new_tokens
}

// MaxPassK bounds [passk] k.
const MaxPassK = 1024

// CalibrateSpec fixes the per-kind calibration measured on every base
// model (recorded in each trial's manifest) and used to place kinds in
// task.band: Prompts train prompts per kind and level, Samples
// completions each at the rollout temperature.
type CalibrateSpec struct {
	Prompts int    `toml:"prompts"` // default 64
	Samples int    `toml:"samples"` // default 16
	Seed    uint64 `toml:"seed"`    // sampling seed, default 1
}

// Trial is one fully resolved run: every default filled in, one algorithm,
// one seed, one point of the grid. Params holds every parameter of the
// algorithm, defaults included. Its ID is a hash of its canonical TOML
// encoding without ID, Sweep, Varying and Task.Path (see ComputeID), so the
// same config always gets the same ID, whichever sweep or grid produced it.
type Trial struct {
	ID        string         `toml:"id"`
	Sweep     string         `toml:"sweep"`
	Seed      uint64         `toml:"seed"`
	Algorithm string         `toml:"algorithm"` // registered name
	Label     string         `toml:"label"`     // column name in reports
	Params    map[string]any `toml:"params"`    // algorithm parameters
	Model     ModelSpec      `toml:"model"`
	Task      TaskSpec       `toml:"task"`
	Pretrain  PretrainSpec   `toml:"pretrain"`
	Train     TrainSpec      `toml:"train"`
	Eval      EvalSpec       `toml:"eval"`
	Reward    RewardSpec     `toml:"reward"`
	Calibrate CalibrateSpec  `toml:"calibrate"`
	// Selected holds the [select] keys and the values chosen on the dev
	// split (main trials), or the grid point tried (selection trials).
	Selected map[string]string `toml:"selected"`
	// Control marks a control arm (ControlBase, ControlSFTRef,
	// ControlRandomReward); ControlOf is the label of the algorithm a
	// random-reward arm controls. Omitted when empty, so the IDs of
	// trials that are not controls are those of earlier versions.
	Control   string `toml:"control,omitempty"`
	ControlOf string `toml:"control_of,omitempty"`
	// Varying holds the grid keys and values of this trial (for the extra
	// columns of results.csv), e.g. {"algorithm.grao.beta": "0.3"}.
	Varying map[string]string `toml:"varying"`
}
