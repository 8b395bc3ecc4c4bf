package plots

import (
	"bytes"
	"encoding/xml"
	"errors"
	"flag"
	"image/png"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
)

var keep = flag.String("out", "", "also write the synthetic sweep's figures into this directory, to look at them")

var (
	allOnce  sync.Once
	allDir   string
	allFigs  []Figure
	allNotes []Note
	allErr   error
)

// renderAll renders the synthetic sweep once per test binary (it is the
// slow part) into a temporary copy of testdata/sweep.
func renderAll(t *testing.T) (string, []Figure, []Note) {
	t.Helper()
	allOnce.Do(func() {
		dir, err := os.MkdirTemp("", "plots-test-")
		if err != nil {
			allErr = err
			return
		}
		allDir = dir
		if err := os.CopyFS(dir, os.DirFS(synDir)); err != nil {
			allErr = err
			return
		}
		o := DefaultOptions()
		if *keep != "" {
			o.OutDir = *keep
		}
		allFigs, allNotes, allErr = All(dir, o)
	})
	if allErr != nil {
		t.Fatal(allErr)
	}
	return allDir, allFigs, allNotes
}

func TestMain(m *testing.M) {
	flag.Parse()
	code := m.Run()
	if allDir != "" {
		os.RemoveAll(allDir)
	}
	os.Exit(code)
}

// TestAllStructure checks that every figure kind is produced for the
// synthetic sweep, in both formats, with sane sizes, a 300-dpi PNG and
// well-formed SVG.
func TestAllStructure(t *testing.T) {
	_, figs, notes := renderAll(t)
	want := []string{
		"dynamics_reward_helpful_tiny", "dynamics_ras_helpful_tiny",
		"dynamics_reward_helpful_small", "dynamics_ras_helpful_small",
		"diagnostics_helpful_tiny", "diagnostics_helpful_small",
		"improvement_ras",
		"loss_grao_helpful_tiny", "loss_grao_helpful_small",
		"ablation_reward_helpful_tiny", "ablation_reward_helpful_small", "ablation_final_nag",
		"sensitivity_ras_helpful_tiny", "sensitivity_ras_helpful_small",
		"rewards_helpful_tiny", "scores_helpful_small",
	}
	var names []string
	for _, f := range figs {
		names = append(names, f.Name)
	}
	for _, w := range want {
		if !slices.Contains(names, w) {
			t.Errorf("figure %s missing; got %v", w, names)
		}
	}
	kinds := map[string]bool{}
	for _, f := range figs {
		kinds[f.Kind] = true
		if f.Title == "" || f.Caption == "" {
			t.Errorf("%s: empty title or caption", f.Name)
		}
		if len(f.Files) != 2 {
			t.Errorf("%s: want png and svg, got %v", f.Name, f.Files)
			continue
		}
		for _, p := range f.Files {
			b, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			if len(b) < 5_000 || len(b) > 3_000_000 {
				t.Errorf("%s: %d bytes, outside the sane range", p, len(b))
			}
			switch filepath.Ext(p) {
			case ".png":
				cfg, err := png.DecodeConfig(bytes.NewReader(b))
				if err != nil {
					t.Errorf("%s: %v", p, err)
					continue
				}
				// 300 dpi: at least 4 inches wide.
				if cfg.Width < 1200 || cfg.Height < 700 {
					t.Errorf("%s: %d×%d pixels, too small for 300 dpi", p, cfg.Width, cfg.Height)
				}
				if !bytes.Contains(b[:64], []byte("pHYs")) {
					t.Errorf("%s: no pHYs chunk", p)
				}
			case ".svg":
				if err := wellFormedXML(b); err != nil {
					t.Errorf("%s: %v", p, err)
				}
			}
		}
	}
	for _, k := range []string{"dynamics", "diagnostics", "improvement", "loss", "ablation", "sensitivity", "distribution"} {
		if !kinds[k] {
			t.Errorf("no figure of kind %s", k)
		}
	}
	// The grid makes GRAO's displayed configuration a choice: it must be
	// stated, and it must be the grid centre.
	found := false
	for _, n := range notes {
		if strings.Contains(n.Reason, "grid centre") {
			found = true
			if !strings.Contains(n.Reason, "beta=0.5") || !strings.Contains(n.Reason, "lambda=0.6") {
				t.Errorf("display note does not pick the centre: %s", n)
			}
		}
	}
	if !found {
		t.Errorf("no note about the displayed grid point; notes: %v", notes)
	}
}

func wellFormedXML(b []byte) error {
	d := xml.NewDecoder(bytes.NewReader(b))
	root := ""
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
		if se, ok := tok.(xml.StartElement); ok && root == "" {
			root = se.Name.Local
		}
	}
	if root != "svg" {
		return errors.New("root element is " + root + ", want svg")
	}
	return nil
}
