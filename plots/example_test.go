package plots_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/grao-lab/grao/plots"
)

// A hand-written results.csv is enough for the relative-improvement bars;
// every figure that needs training logs is skipped with a note.
func ExampleAll() {
	dir, _ := os.MkdirTemp("", "plots-example-")
	defer os.RemoveAll(dir)
	csv := "trial,task,model,algorithm,seed,metric,value\n" +
		"g1,hh,m,grao,1,RAS,0.60\ng2,hh,m,grao,2,RAS,0.62\ng3,hh,m,grao,3,RAS,0.64\n" +
		"p1,hh,m,ppo,1,RAS,0.50\np2,hh,m,ppo,2,RAS,0.55\np3,hh,m,ppo,3,RAS,0.52\n"
	os.WriteFile(filepath.Join(dir, "results.csv"), []byte(csv), 0o644)

	opts := plots.DefaultOptions()
	opts.Formats = []string{"svg"}
	figs, notes, err := plots.All(dir, opts)
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, f := range figs {
		fmt.Println(f.Name, filepath.Base(f.Files[0]))
	}
	fmt.Println(len(notes) > 0)
	md := plots.MarkdownLinks(dir)
	fmt.Println(strings.Contains(md, "[SVG](figures/improvement_ras.svg)"))
	// Output:
	// improvement_ras improvement_ras.svg
	// true
	// true
}
