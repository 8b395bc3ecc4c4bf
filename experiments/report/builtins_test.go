package report

// The tests' results name the built-in algorithms, whose display names,
// order and colours their packages register.
import _ "github.com/grao-lab/grao/algorithms/all"
