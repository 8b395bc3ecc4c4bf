package plots

import (
	"os"
	"path/filepath"
	"testing"

	"gonum.org/v1/plot/cmpimg" // also defines the -regen flag
)

// goldenFigures are one figure of each kind; rendered at 100 dpi so the
// reference images stay small.
var goldenFigures = []string{
	"dynamics_reward_helpful_tiny", "diagnostics_helpful_tiny", "improvement_ras", "loss_grao_helpful_tiny",
	"ablation_final_nag", "sensitivity_ras_helpful_small", "rewards_helpful_tiny", "scores_helpful_small",
}

// goldenDelta is cmpimg's normalised per-pixel tolerance: loose enough for
// font rasterisation differences between platforms, tight enough that a
// moved line, a changed colour or a missing label fails.
const goldenDelta = 0.1

// TestGolden compares figures with testdata/golden/*.png; run with -regen
// to accept new images after looking at them.
func TestGolden(t *testing.T) {
	tmp := t.TempDir()
	o := DefaultOptions()
	o.Formats, o.DPI, o.OutDir = []string{"png"}, 100, tmp
	if _, _, err := All(synDir, o); err != nil {
		t.Fatal(err)
	}
	for _, name := range goldenFigures {
		got, err := os.ReadFile(filepath.Join(tmp, name+".png"))
		if err != nil {
			t.Fatal(err)
		}
		golden := filepath.Join("testdata", "golden", name+".png")
		if *cmpimg.GenerateTestData {
			if err := os.MkdirAll(filepath.Dir(golden), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(golden, got, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want, err := os.ReadFile(golden)
		if err != nil {
			t.Fatalf("%v (run go test ./plots -run TestGolden -regen)", err)
		}
		ok, err := cmpimg.EqualApprox("png", got, want, goldenDelta)
		if err != nil {
			t.Fatal(err)
		}
		if !ok {
			bad := filepath.Join(os.TempDir(), "plots-golden-"+name+".png")
			os.WriteFile(bad, got, 0o644)
			t.Errorf("%s differs from %s beyond tolerance %g; new image at %s", name, golden, goldenDelta, bad)
		}
	}
}

// TestGoldenToleranceDiscriminates guards against a tolerance so loose that
// any image passes: two different figures of the same size must differ.
func TestGoldenToleranceDiscriminates(t *testing.T) {
	a, err1 := os.ReadFile(filepath.Join("testdata", "golden", "dynamics_reward_helpful_tiny.png"))
	b, err2 := os.ReadFile(filepath.Join("testdata", "golden", "loss_grao_helpful_tiny.png"))
	if err1 != nil || err2 != nil {
		t.Skip("golden images missing")
	}
	ok, err := cmpimg.EqualApprox("png", a, b, goldenDelta)
	if err != nil {
		t.Fatal(err)
	}
	if ok {
		t.Fatalf("tolerance %g accepts two different figures as equal", goldenDelta)
	}
}
