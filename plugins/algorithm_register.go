package plugins

import "github.com/grao-lab/grao/algorithms"

// An [[algorithm]] table with name = "plugin" runs an out-of-process
// algorithm: a program that links this package (every bench does) knows it.
func init() { algorithms.Register("plugin", openAlgorithmParams) }
