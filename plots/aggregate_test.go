package plots

import (
	"bytes"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/grao-lab/grao/algorithms"
)

func profileFixture() []ProfileSeries {
	taus := []float64{0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1}
	var out []ProfileSeries
	for k, label := range []string{"grao", "ppo", "dpo", "My variant"} {
		s := ProfileSeries{Label: label, Taus: taus}
		for _, tau := range taus {
			f := 1 / (1 + math.Exp((tau-0.6+0.1*float64(k))*10))
			s.Fraction = append(s.Fraction, f)
			if k != 2 { // one series without a band
				s.Lo = append(s.Lo, max(0, f-0.08))
				s.Hi = append(s.Hi, min(1, f+0.08))
			}
		}
		out = append(out, s)
	}
	return out
}

func intervalFixture() []IntervalRow {
	return []IntervalRow{
		{Label: "grao", Point: 0.62, Lo: 0.55, Hi: 0.70},
		{Label: "grao-no-imitation", Point: 0.51, Lo: 0.44, Hi: 0.58},
		{Label: "PPO", Point: 0.48, Lo: 0.40, Hi: 0.55},
		{Label: "sft", Point: 0.30, Lo: 0.30, Hi: 0.30}, // a zero-width interval still draws
	}
}

// TestAggregateFigures renders both figures the way All saves figures
// (PNG with its pHYs chunk, SVG) and checks that the files decode; with
// -out they are also kept there to look at.
func TestAggregateFigures(t *testing.T) {
	prof, err := PerformanceProfiles("IQM profile", profileFixture())
	if err != nil {
		t.Fatal(err)
	}
	iv, err := IntervalEstimates("Interquartile mean\n95% stratified-bootstrap intervals", "IQM of RAS", intervalFixture())
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if *keep != "" {
		dir = *keep
	}
	for name, p := range map[string]*figure{
		"profiles":  {Figure: Figure{Name: "profiles"}, p: prof},
		"intervals": {Figure: Figure{Name: "intervals"}, p: iv, h: catHeight(len(intervalFixture()))},
	} {
		paths, err := p.save(dir, []string{"png", "svg"}, 150)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if len(paths) != 2 {
			t.Fatalf("%s: wrote %v", name, paths)
		}
		for _, path := range paths {
			b, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			switch filepath.Ext(path) {
			case ".png":
				if _, err := png.Decode(bytes.NewReader(b)); err != nil {
					t.Errorf("%s: %v", path, err)
				}
			case ".svg":
				if err := wellFormedXML(b); err != nil {
					t.Errorf("%s: %v", path, err)
				}
			}
		}
	}
}

func TestAggregateFigureLabels(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"grao", "GRAO"}, {"grao-no-imitation", "GRAO w/o imitation"}, {"PPO", "PPO"}, {"My variant", "My variant"},
		{"drgrpo", "Dr. GRPO"}, {"rloo-random", "RLOO-random"},
	} {
		if got := shownLabel(tc.in); got != tc.want {
			t.Errorf("shownLabel(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
	// Colours follow the label whatever its spelling.
	p := newPalette([]string{canonicalLabel("PPO")}, "grao")
	id, _ := algorithms.IdentityOf("ppo")
	if want, _ := parseHex(id.Colour); p.get("ppo").Colour != want {
		t.Error("PPO does not get ppo's registered colour")
	}
}

func TestAggregateFigureErrors(t *testing.T) {
	short := profileFixture()[:1]
	short[0].Fraction = short[0].Fraction[1:]
	halfBand := profileFixture()[:1]
	halfBand[0].Hi = nil
	nan := profileFixture()[:1]
	nan[0].Lo[3] = math.NaN()
	twice := append(profileFixture()[:1], profileFixture()[0])
	twice[1].Label = "GRAO"
	for name, tc := range map[string]struct {
		series []ProfileSeries
		want   string
	}{
		"empty":      {nil, "no series"},
		"no taus":    {[]ProfileSeries{{Label: "grao"}}, "no thresholds"},
		"mismatched": {short, "fractions"},
		"half band":  {halfBand, "band"},
		"NaN":        {nan, "finite"},
		"twice":      {twice, "twice"},
	} {
		if _, err := PerformanceProfiles("t", tc.series); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("PerformanceProfiles %s: error %v, want %q", name, err, tc.want)
		}
	}
	for name, tc := range map[string]struct {
		rows []IntervalRow
		want string
	}{
		"empty":    {nil, "no rows"},
		"inverted": {[]IntervalRow{{Label: "grao", Point: 0.5, Lo: 0.6, Hi: 0.4}}, "above"},
		"Inf":      {[]IntervalRow{{Label: "grao", Point: math.Inf(1), Lo: 0, Hi: 1}}, "finite"},
		"twice":    {[]IntervalRow{{Label: "ppo", Hi: 1}, {Label: "PPO", Hi: 1}}, "twice"},
	} {
		if _, err := IntervalEstimates("t", "x", tc.rows); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("IntervalEstimates %s: error %v, want %q", name, err, tc.want)
		}
	}
}
