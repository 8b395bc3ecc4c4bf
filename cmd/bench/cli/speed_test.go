package cli

import (
	"cmp"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/grao-lab/grao/kernels"
)

// TestSpeedJSON checks the JSON contract of bench speed on the tiny model:
// one median row per (backend, kind, batch), repetitions summed over
// rounds, and one speedup per row when two backends are compared.
func TestSpeedJSON(t *testing.T) {
	blas, backends := "gonum", 1
	if _, err := kernels.OpenBLAS(); err == nil {
		blas, backends = "both", 2
	}
	code, so, se := bench(t, "speed", "--json", "--models", "tiny", "--blas", blas, "--rounds", "2",
		"--train-steps", "2", "--batch", "2", "--new-tokens", "4")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, se)
	}
	var rep speedReport
	if err := json.Unmarshal([]byte(so), &rep); err != nil {
		t.Fatalf("output is not JSON: %v\n%s", err, so)
	}
	if rep.Rounds != 2 || len(rep.Rows) != 3*backends {
		t.Fatalf("rounds %d, %d rows; want 2 rounds and %d rows", rep.Rounds, len(rep.Rows), 3*backends)
	}
	// Each measurement ran in a fresh process, whose peak RSS is reported;
	// the sgemm peak was measured and every row is placed against it.
	if rep.Peak == nil || rep.Peak.GFLOPs <= 0 || rep.Peak.Size < 512 {
		t.Fatalf("peak probe %+v", rep.Peak)
	}
	for _, r := range rep.Rows {
		if r.Model != "tiny" || r.TokensPerS <= 0 || r.GFLOPs <= 0 || r.PeakRSSMiB <= 0 || r.PeakFraction <= 0 {
			t.Errorf("implausible row %+v", r)
		}
		if r.Kind == "train" && r.AllocsPerStep <= 0 {
			t.Errorf("%s train: allocs/step %v not measured", r.BLAS, r.AllocsPerStep)
		}
		// Training: rounds × timed steps; sampling: at least three
		// generations per round.
		if r.Kind == "train" && r.Repetitions != 2*2 || r.Kind == "sample" && r.Repetitions < 2*3 {
			t.Errorf("%s %s batch %d: %d repetitions", r.BLAS, r.Kind, r.Batch, r.Repetitions)
		}
	}
	if len(rep.Speedups) != 3*(backends-1) {
		t.Errorf("%d speedups, want %d", len(rep.Speedups), 3*(backends-1))
	}
	for _, s := range rep.Speedups {
		if s.Of != "openblas" || s.Over != "gonum" || s.Ratio <= 0 {
			t.Errorf("speedup %+v", s)
		}
	}
}

func TestSpeedBadInput(t *testing.T) {
	for _, args := range [][]string{
		{"speed", "--rounds", "0"},
		{"speed", "--models", "huge"},
		{"speed", "--blas", "mkl"},
		{"speed", "--blas", "native,mkl"},
	} {
		if code, _, se := bench(t, args...); code != 2 || !strings.Contains(se, "--") {
			t.Errorf("%v: exit %d, stderr %q; want 2 and a message naming the flag", args, code, se)
		}
	}
}

// TestSpeedBackendLists: --blas takes lists and "all", in order, each
// backend once.
func TestSpeedBackendLists(t *testing.T) {
	got, err := speedBackends("gonum, gonum")
	if err != nil || len(got) != 1 || got[0].Name() != "gonum" {
		t.Fatalf("gonum, gonum: %v %v", got, err)
	}
	all, err := speedBackends("all")
	if err != nil || all[len(all)-1].Name() != "gonum" {
		t.Fatalf("all: %v %v", all, err)
	}
	if _, nerr := kernels.NativeBackend(); nerr == nil && all[0].Name() != "native" {
		t.Errorf("all starts with %s, want native", all[0].Name())
	}
}

func TestMedianRow(t *testing.T) {
	rs := []speedRow{{TokensPerS: 5, Repetitions: 3}, {TokensPerS: 1, Repetitions: 3}, {TokensPerS: 9, Repetitions: 3}, {TokensPerS: 2, Repetitions: 3}}
	m := medianRow(rs)
	if m.TokensPerS != 2 || m.Repetitions != 12 {
		t.Errorf("medianRow = %+v, want the lower middle (2) with 12 repetitions", m)
	}
}

// TestSpeedTorch runs the PyTorch reference on the tiny model. It needs
// Debian's python3-torch, like the checkpoint parity test: it skips
// without it unless GRAO_REQUIRE_TORCH=1 (CI).
func TestSpeedTorch(t *testing.T) {
	if testing.Short() {
		t.Skip("-short")
	}
	python := torchPython(t)
	code, so, se := bench(t, "speed", "--json", "--models", "tiny", "--blas", "gonum", "--torch", python,
		"--train-steps", "2", "--batch", "2", "--new-tokens", "4", "--rounds", "1", "--peak=false")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, se)
	}
	var rep speedReport
	if err := json.Unmarshal([]byte(so), &rep); err != nil {
		t.Fatal(err)
	}
	var torchRows int
	for _, r := range rep.Rows {
		if r.BLAS != "pytorch" {
			continue
		}
		torchRows++
		if r.TokensPerS <= 0 || r.GFLOPs <= 0 || r.Threads < 1 || r.PeakRSSMiB < 50 {
			t.Errorf("implausible PyTorch row %+v", r)
		}
		if r.Kind == "train" && (r.Seq != 64 || r.Batch != 2 || r.Repetitions != 2) {
			t.Errorf("PyTorch train row %+v: want seq 64 (tiny's context), batch 2, 2 steps", r)
		}
	}
	if torchRows != 3 || len(rep.Speedups) != 3 {
		t.Errorf("%d PyTorch rows and %d speedups, want 3 and 3", torchRows, len(rep.Speedups))
	}
	if code, _, se := bench(t, "speed", "--models", "tiny", "--torch", "/nonexistent/python"); code != 2 || !strings.Contains(se, "--torch") {
		t.Errorf("missing interpreter: exit %d, %q; want 2 naming --torch", code, se)
	}
}

// torchPython is the interpreter with torch, or skips the test (fails it
// under GRAO_REQUIRE_TORCH=1).
func torchPython(t *testing.T) string {
	t.Helper()
	python := cmp.Or(os.Getenv("GRAO_TORCH_PYTHON"), "/usr/bin/python3")
	if out, err := exec.Command(python, "-c", "import torch").CombinedOutput(); err != nil {
		msg := fmt.Sprintf("%s cannot import torch (%v: %s)", python, err, out)
		if os.Getenv("GRAO_REQUIRE_TORCH") == "1" {
			t.Fatal(msg + " and GRAO_REQUIRE_TORCH=1")
		}
		t.Skip(msg)
	}
	return python
}

// The PyTorch reference keeps every tensor on the device it is given, so
// `bench speed --device cuda --torch` works on the GPU machine's first try:
// testdata/torch_on_meta.py runs it on torch's meta device and fails any
// operator that mixes devices, as CUDA would. Each mutant leaves one
// tensor on the CPU and must fail, so the check can fail.
func TestTorchScriptOneDevice(t *testing.T) {
	if testing.Short() {
		t.Skip("-short")
	}
	python := torchPython(t)
	cfg := `{"vocab":260,"ctx":16,"d":32,"layers":1,"heads":2,"batch":2,"train_steps":1,` +
		`"sample_batches":[1,4],"new_tokens":4,"threads":[1],"device":"meta"}`
	run := func(script string) (string, error) {
		path := filepath.Join(t.TempDir(), "torch_speed.py")
		if err := os.WriteFile(path, []byte(script), 0o644); err != nil {
			t.Fatal(err)
		}
		out, err := exec.Command(python, "testdata/torch_on_meta.py", path, cfg).CombinedOutput()
		return string(out), err
	}
	out, err := run(torchSpeedScript)
	if err != nil {
		t.Fatalf("torch_speed.py on the meta device: %v\n%s", err, lastLines(out, 5))
	}
	var res struct {
		Results []map[string]any `json:"results"`
	}
	if err := json.Unmarshal([]byte(lastLines(out, 1)), &res); err != nil || len(res.Results) != 3 {
		t.Fatalf("want 3 rows (train, sample b1, sample b4), got %v: %s", err, lastLines(out, 3))
	}
	mutants := []struct{ name, from, to string }{
		{"positions on the CPU", "pos0 + t, device=ids.device)", "pos0 + t)"},
	}
	// Where torch has F.scaled_dot_product_attention the script never
	// builds a mask of its own (torch 2.0 on; Debian's is 1.13).
	sdpa, _ := exec.Command(python, "-c", "import torch.nn.functional as F; print(hasattr(F, 'scaled_dot_product_attention'))").Output()
	if strings.TrimSpace(string(sdpa)) == "False" {
		mutants = append(mutants, struct{ name, from, to string }{
			"causal mask on the CPU", "dtype=torch.bool, device=q.device)", "dtype=torch.bool)"})
	}
	for _, m := range mutants {
		mutant := strings.Replace(torchSpeedScript, m.from, m.to, 1)
		if mutant == torchSpeedScript {
			t.Fatalf("%s: %q is not in torch_speed.py", m.name, m.from)
		}
		if out, err := run(mutant); err == nil || !strings.Contains(out, "tensors on ['cpu', 'meta']") {
			t.Errorf("%s: the meta run did not fail on mixed devices (err %v):\n%s", m.name, err, lastLines(out, 3))
		}
	}
}

// A device this build lacks is bad input, named before anything runs.
func TestSpeedDeviceMissing(t *testing.T) {
	code, _, se := bench(t, "speed", "--device", "cuda", "--models", "tiny")
	if code != 2 || !strings.Contains(se, "--device") || !strings.Contains(se, "-tags grao_cuda") {
		t.Errorf("exit %d: %s", code, se)
	}
}
