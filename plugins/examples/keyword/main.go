// Command keyword is an example grao reward plugin written in Go: it scores
// a completion by the fraction of required keywords it mentions.
//
// Build it and name the binary in a sweep (see README.md):
//
//	go build -o bin/keyword ./plugins/examples/keyword
//	bench plugin check bin/keyword -keywords paris,france
package main

import (
	"flag"
	"strings"

	"github.com/grao-lab/grao/plugins"
)

func main() {
	kw := flag.String("keywords", "", "comma-separated keywords a completion should mention (meta \"keywords\" overrides per item)")
	flag.Parse()
	plugins.Serve(&Keyword{Default: splitKeywords(*kw)})
}

func splitKeywords(s string) []string {
	var out []string
	for _, k := range strings.Split(s, ",") {
		if k = strings.TrimSpace(k); k != "" {
			out = append(out, k)
		}
	}
	return out
}
