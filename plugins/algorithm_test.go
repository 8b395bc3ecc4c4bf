package plugins

import (
	"encoding/json"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/grao-lab/grao/algorithms"
	"github.com/grao-lab/grao/algorithms/algotest"
	_ "github.com/grao-lab/grao/algorithms/rloo"
	"github.com/grao-lab/grao/core"
)

// serveTestAlgorithm serves the built-in RLOO as a plugin, or a faulty
// variant of it.
func serveTestAlgorithm(mode, dir string) int {
	ServeAlgorithm(func(params map[string]any) (core.Algorithm, error) {
		alg, err := algorithms.New("rloo", params)
		if err != nil || mode == "alg-rloo" {
			return alg, err
		}
		return faulty{alg, mode, dir}, nil
	})
	return 0
}

type faulty struct {
	core.Algorithm
	mode, dir string
}

func (f faulty) Loss(b, grad *core.Batch) (core.LossValue, error) {
	lv, err := f.Algorithm.Loss(b, grad)
	switch f.mode {
	case "alg-shortgrad":
		s := &grad.Groups[0].Samples[0]
		s.LogP = s.LogP[:len(s.LogP)-1]
	case "alg-crash-once":
		marker := filepath.Join(f.dir, "crashed")
		if _, err := os.Stat(marker); err != nil {
			os.WriteFile(marker, nil, 0o644)
			os.Exit(3)
		}
	}
	return lv, err
}

// algorithmPlugins are the plugins under test: the Go one (this test
// binary) and, where Debian's Python packages are installed, the numpy
// example.
func algorithmPlugins(t *testing.T) map[string]Config {
	t.Helper()
	cfg, _, _ := testConfig(t, "alg-rloo")
	out := map[string]Config{"go": cfg}
	if py := pythonWithNumpy(t); py != "" {
		out["python"] = Config{Name: "rloo-numpy", Path: py, Args: []string{"examples/python/rloo_plugin.py"}}
	}
	return out
}

func pythonWithNumpy(t *testing.T) string {
	t.Helper()
	py := pythonWithGRPC(t)
	if err := exec.Command(py, "-c", "import numpy").Run(); err != nil {
		t.Log("no numpy: the Python algorithm plugin is not tested (apt-get install -y python3-numpy)")
		return ""
	}
	return py
}

// A plugin's loss and gradient equal the in-tree RLOO's on the same batch
// to 1e-9, and the plugin passes the conformance suite through the host.
func TestAlgorithmPluginMatchesInTree(t *testing.T) {
	params := map[string]any{"g": 4, "kl_beta": 0.1, "clip_eps": 0.2}
	want, err := algorithms.New("rloo", params)
	if err != nil {
		t.Fatal(err)
	}
	for name, cfg := range algorithmPlugins(t) {
		t.Run(name, func(t *testing.T) {
			alg, err := OpenAlgorithm(cfg, params)
			if err != nil {
				t.Fatal(err)
			}
			n, wn := alg.Needs(), want.Needs()
			if n.Samples != wn.Samples || n.RefModel != wn.RefModel || n.OldLogP != wn.OldLogP || n.Epochs != wn.Epochs {
				t.Fatalf("needs %+v, want %+v", n, wn)
			}
			r := algotest.NewRand(5)
			for round := range 5 {
				b := algotest.RandomBatch(r, n, 3, round%2 == 1)
				// ratios far from 1 so both clip branches are taken
				for gi := range b.Groups {
					for i := range b.Groups[gi].Samples {
						s := &b.Groups[gi].Samples[i]
						s.OldLogP = algotest.Jitter(r, [][]float64{s.LogP}, 0.3)[0]
					}
				}
				g1, g2 := algotest.GradBatch(b), algotest.GradBatch(b)
				l1, err := alg.Loss(b, g1)
				if err != nil {
					t.Fatal(err)
				}
				l2, err := want.Loss(b, g2)
				if err != nil {
					t.Fatal(err)
				}
				if d := math.Abs(l1.Loss - l2.Loss); d > 1e-9 {
					t.Errorf("round %d: loss %.15g, in-tree %.15g", round, l1.Loss, l2.Loss)
				}
				for gi := range g1.Groups {
					for i := range g1.Groups[gi].Samples {
						a, w := g1.Groups[gi].Samples[i].LogP, g2.Groups[gi].Samples[i].LogP
						for t2 := range w {
							if math.Abs(a[t2]-w[t2]) > 1e-9 {
								t.Fatalf("round %d: grad[%d][%d][%d] = %.15g, in-tree %.15g", round, gi, i, t2, a[t2], w[t2])
							}
						}
					}
				}
			}
			algotest.Run(t, alg, algotest.Options{})
		})
	}
}

func TestAlgorithmPluginErrors(t *testing.T) {
	plugs := algorithmPlugins(t)
	for name, cfg := range plugs {
		if _, err := OpenAlgorithm(cfg, map[string]any{"g": 1}); err == nil || !strings.Contains(err.Error(), "g") {
			t.Errorf("%s: g = 1 accepted or unnamed: %v", name, err)
		}
	}
	if cfg, ok := plugs["python"]; ok {
		_, err := OpenAlgorithm(cfg, map[string]any{"gg": 4})
		if err == nil || !strings.Contains(err.Error(), `key "gg": unknown parameter`) {
			t.Errorf("python: unknown key: %v", err)
		}
	}
	// A gradient that does not mirror the batch is refused with where.
	cfg, _, _ := testConfig(t, "alg-shortgrad")
	alg, err := OpenAlgorithm(cfg, map[string]any{"g": 2})
	if err != nil {
		t.Fatal(err)
	}
	b := algotest.RandomBatch(algotest.NewRand(1), alg.Needs(), 2, false)
	if _, err := alg.Loss(b, algotest.GradBatch(b)); err == nil || !strings.Contains(err.Error(), "groups[0].samples[0]") {
		t.Errorf("short gradient: %v", err)
	}
	// A crash mid-batch restarts the plugin and retries.
	cfg, dir, _ := testConfig(t, "alg-crash-once")
	alg, err = OpenAlgorithm(cfg, map[string]any{"g": 2})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := alg.Loss(b, algotest.GradBatch(b)); err != nil {
		t.Errorf("after one crash: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "crashed")); err != nil {
		t.Error("the plugin never crashed: the test proves nothing")
	}
}

// The "plugin" factory: host keys route to the process, the rest to the
// plugin; the resolved configuration rebuilds the same algorithm and
// pins the plugin's files.
func TestPluginFactory(t *testing.T) {
	cfg, _, _ := testConfig(t, "alg-rloo")
	params := map[string]any{"plugin": cfg.Path, "env": map[string]any{envMode: "alg-rloo", envDir: t.TempDir()}, "g": 4}
	alg, err := algorithms.New("plugin", params)
	if err != nil {
		t.Fatal(err)
	}
	resolved := alg.Config().(map[string]any)
	if resolved["g"] != float64(4) || resolved["kl_beta"] != 0.05 || resolved["plugin"] != cfg.Path {
		t.Errorf("resolved config %v", resolved)
	}
	sums, _ := resolved[inputsKey].(map[string]string)
	if len(sums[cfg.Path]) != 64 {
		t.Errorf("no digest of the executable in %v", resolved[inputsKey])
	}
	again, err := algorithms.New("plugin", jsonRoundTrip(t, resolved))
	if err != nil {
		t.Fatalf("the resolved configuration does not rebuild the algorithm: %v", err)
	}
	if again.Needs().Samples != 4 {
		t.Errorf("rebuilt needs %+v", again.Needs())
	}
	stale := jsonRoundTrip(t, resolved)
	stale[inputsKey] = map[string]any{cfg.Path: strings.Repeat("0", 64)}
	if _, err := algorithms.New("plugin", stale); err == nil || !strings.Contains(err.Error(), "changed since") {
		t.Errorf("a changed executable is not noticed: %v", err)
	}
	if _, err := algorithms.New("plugin", map[string]any{"g": 4}); err == nil || !strings.Contains(err.Error(), `"plugin"`) {
		t.Errorf("missing plugin key: %v", err)
	}
}

func jsonRoundTrip(t *testing.T, m map[string]any) map[string]any {
	t.Helper()
	raw, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	var out map[string]any
	if err := json.Unmarshal(raw, &out); err != nil {
		t.Fatal(err)
	}
	return out
}
