package report_test

import (
	"fmt"

	"github.com/grao-lab/grao/experiments/report"
)

// Two algorithms graded pass/fail on the same 40 prompts: 25 prompts agree,
// A alone passes 12 and B alone passes 3. Only the 15 discordant prompts
// matter; then the same comparison for a family of three tasks, corrected
// with Holm.
func ExampleMcNemar() {
	fmt.Printf("p = %.4f\n", report.McNemar(12, 3))
	fmt.Printf("p = %.4f (no discordant pairs)\n", report.McNemar(0, 0))
	adj := report.Holm([]float64{report.McNemar(12, 3), report.McNemar(30, 10), report.McNemar(5, 4)})
	fmt.Printf("Holm: %.4f %.4f %.4f\n", adj[0], adj[1], adj[2])
	// Output:
	// p = 0.0352
	// p = 1.0000 (no discordant pairs)
	// Holm: 0.0703 0.0067 1.0000
}
