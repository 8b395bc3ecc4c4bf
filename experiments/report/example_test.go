package report_test

import (
	"fmt"
	"strings"

	"github.com/grao-lab/grao/experiments/report"
)

// Build the headline of a two-seed comparison from an in-memory results.csv.
func ExampleBuild() {
	csv := `trial,task,model,algorithm,seed,metric,value
a,arith,small,sft,1,RAS,20
b,arith,small,sft,2,RAS,24
c,arith,small,grao,1,RAS,30
d,arith,small,grao,2,RAS,33
`
	res, err := report.Read(strings.NewReader(csv), "inline.csv")
	if err != nil {
		panic(err)
	}
	rep, err := report.Build(res, report.DefaultOptions())
	if err != nil {
		panic(err)
	}
	for _, h := range rep.Headline {
		fmt.Printf("grao vs %s: %+.2f%% relative, %+.2f points over %d cell(s)\n", h.Baseline, 100*h.Relative, h.Absolute, h.Cells)
	}
	c := rep.Comparisons[0]
	fmt.Printf("%s test over %d seeds: p = %.3f\n", c.Test, c.N, c.P)
	// Output:
	// grao vs sft: +43.18% relative, +9.50 points over 1 cell(s)
	// paired t test over 2 seeds: p = 0.033
}
