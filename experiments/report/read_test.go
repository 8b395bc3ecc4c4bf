package report

import (
	"bytes"
	"errors"
	"math"
	"strings"
	"testing"
)

const hdr = "trial,task,model,algorithm,seed,metric,value\n"

func TestReadErrors(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		line     int
		column   string
		reason   string
	}{
		{"empty file", "", 0, "", "empty file"},
		{"header only", hdr, 0, "", "no data rows"},
		{"missing column", "trial,task,model,algorithm,seed,value\n1,t,m,a,1,2\n", 1, "metric", "missing required column"},
		{"duplicate column", "trial,task,model,algorithm,seed,metric,value,seed\n", 1, "seed", "duplicate column"},
		{"empty header name", "trial,task,model,algorithm,seed,metric,value,\n", 1, "", "empty name"},
		{"non-numeric value", hdr + "1,t,m,a,1,RAS,abc\n", 2, "value", `"abc" is not a number`},
		{"NaN value", hdr + "1,t,m,a,1,RAS,NaN\n", 2, "value", "not a finite number"},
		{"Inf value", hdr + "1,t,m,a,1,RAS,+Inf\n", 2, "value", "not a finite number"},
		{"bad seed", hdr + "1,t,m,a,one,RAS,1\n", 2, "seed", "not an integer"},
		{"empty required", hdr + "1,t,,a,1,RAS,1\n", 2, "model", "empty value"},
		{"duplicate trial metric", hdr + "1,t,m,a,1,RAS,1\n1,t,m,a,1,NAG,1\n1,t,m,a,1,RAS,2\n", 4, "metric", "already on line 2"},
		{"trial changes algorithm", hdr + "1,t,m,a,1,RAS,1\n1,t,m,b,1,NAG,1\n", 3, "trial", "different task/model/algorithm"},
		{"trial changes seed", hdr + "1,t,m,a,1,RAS,1\n1,t,m,a,2,NAG,1\n", 3, "trial", "line 2"},
		{"same config and seed", hdr + "1,t,m,a,1,RAS,1\n2,t,m,a,1,RAS,2\n", 3, "seed", "repeats seed 1"},
		{"field count", hdr + "1,t,m,a,1,RAS\n", 2, "", "wrong number of fields"},
		{"bad quote", hdr + "1,t,m,\"a,1,RAS,1\n", 2, "", ""},
		{"bad ablation", "trial,task,model,algorithm,seed,metric,value,ablation\n1,t,m,a,1,RAS,1,no-\n", 2, "ablation", "removed part"},
		{"comments keep line numbers", "# c\n" + hdr + "# c\n1,t,m,a,1,RAS,x\n", 4, "value", "not a number"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Read(strings.NewReader(tc.in), "r.csv")
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("err = %v, want a *ParseError", err)
			}
			if pe.File != "r.csv" || (tc.line > 0 && pe.Line != tc.line) || pe.Key != tc.column || !strings.Contains(pe.Reason, tc.reason) {
				t.Errorf("got %q (line %d, column %q), want line %d column %q reason containing %q", err, pe.Line, pe.Key, tc.line, tc.column, tc.reason)
			}
			if tc.line > 0 && !strings.HasPrefix(err.Error(), "r.csv:") {
				t.Errorf("message %q does not start with file:line", err)
			}
		})
	}
}

func TestReadAccepts(t *testing.T) {
	in := "\ufeff trial , task,model,algorithm,seed,metric,value,lr,ablation\n" +
		"x1, t ,m,grao,-3,RAS, 1.5e1 ,0.1,\n" +
		"x2,t,m,GRAO-no-Regulariser,4,RAS,2,0.1,\n" +
		"x3,t,m,grao,5,RAS,3,0.1,w/o-exploration\n"
	res, err := Read(strings.NewReader(in), "ok.csv")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(res.Params, ",") != "lr" || len(res.Rows) != 3 {
		t.Fatalf("params %v rows %d", res.Params, len(res.Rows))
	}
	r := res.Rows[0]
	if r.Trial != "x1" || r.Task != "t" || r.Seed != -3 || r.Value != 15 || r.Line != 2 || r.Ablation != "" || r.Params[0] != "0.1" {
		t.Errorf("row 0 %+v", r)
	}
	if r := res.Rows[1]; r.Algorithm != "GRAO" || r.Ablation != "regularizer" {
		t.Errorf("row 1: algorithm %q ablation %q", r.Algorithm, r.Ablation)
	}
	if r := res.Rows[2]; r.Algorithm != "grao" || r.Ablation != "exploration" {
		t.Errorf("row 2: algorithm %q ablation %q", r.Algorithm, r.Ablation)
	}
}

func TestSplitAblationName(t *testing.T) {
	for in, want := range map[string][2]string{
		"grao-no-imitation":   {"grao", "imitation"},
		"grao-no-regulariser": {"grao", "regularizer"},
		"my-algo-no-kl":       {"my-algo", "kl"},
		"grao":                {"", ""},
		"no-imitation":        {"", ""},
		"grao-no-":            {"", ""},
	} {
		b, p, ok := splitAblationName(in)
		if ok != (want[0] != "") || b != want[0] || p != want[1] {
			t.Errorf("%q ⇒ %q %q %v, want %q", in, b, p, ok, want)
		}
	}
}

// FuzzRead: the reader never panics, accepted input has only finite values
// and required fields, and every accepted file builds and renders.
func FuzzRead(f *testing.F) {
	f.Add(hdr + "1,t,m,grao,1,RAS,1\n2,t,m,sft,1,RAS,0.5\n")
	f.Add(hdr + "1,t,m,grao,1,RAS,1\n1,t,m,grao,1,RAS,2\n")
	f.Add("trial,task,model,algorithm,seed,metric,value,ablation,x\n1,t,m,grao,1,NAG,1,no-imitation,3\n2,t,m,grao,1,NAG,2,,3\n")
	f.Add("a,b\n\"x\ny\",2\n")
	f.Fuzz(func(t *testing.T, in string) {
		res, err := Read(strings.NewReader(in), "f.csv")
		if err != nil {
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("non-ParseError %T: %v", err, err)
			}
			return
		}
		for _, r := range res.Rows {
			if math.IsNaN(r.Value) || math.IsInf(r.Value, 0) || r.Trial == "" || r.Metric == "" || len(r.Params) != len(res.Params) {
				t.Fatalf("accepted bad row %+v", r)
			}
		}
		opts := DefaultOptions()
		opts.Resamples = 200
		rep, err := Build(res, opts)
		if err != nil {
			t.Fatalf("Build: %v", err)
		}
		for _, f := range []Format{Markdown, LaTeX, CSV} {
			var buf bytes.Buffer
			if err := rep.Render(&buf, f); err != nil {
				t.Fatalf("render %s: %v", f, err)
			}
		}
	})
}
