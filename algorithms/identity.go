package algorithms

import (
	"sort"
	"strings"
)

// Identity is how tables and figures show an algorithm. It is data,
// registered by the algorithm's package next to its factory, so that
// reports and plots name no algorithm themselves.
type Identity struct {
	// Display is the name in tables and legends ("Dr. GRPO"); default:
	// the registered name.
	Display string
	// Colour is the line colour in figures, "#RRGGBB"; default: one of a
	// colour-blind-safe palette, fixed per label within a run.
	Colour string
	// Glyph is the marker: "circle", "ring", "square", "triangle",
	// "pyramid", "cross", "plus" or "box"; default "circle".
	Glyph string
	// Order places the algorithm among table columns and legend entries
	// (lower first); 0 puts it after every ordered one, by name.
	Order int
	// Target marks the method a framework's reports are about (GRAO
	// here): the default improvement target when a sweep names none.
	Target bool
	// Imitation marks supervised fine-tuning on the reference answers
	// (SFT here): a sweep's "base" and "sft-ref" control arms run it.
	Imitation bool
	// Base and Ablation mark an ablation: the algorithm it is a variant
	// of and the part removed ("imitation").
	Base, Ablation string
}

var identities = map[string]Identity{}

// Describe records name's identity (call it from init, beside Register);
// a second call for a name panics.
func Describe(name string, id Identity) {
	mu.Lock()
	defer mu.Unlock()
	if _, dup := identities[name]; dup {
		panic("algorithms: Describe called twice for " + name)
	}
	identities[name] = id
}

// IdentityOf returns the identity registered for name.
func IdentityOf(name string) (Identity, bool) {
	mu.RLock()
	defer mu.RUnlock()
	id, ok := identities[name]
	return id, ok
}

// DisplayName is name's display name, or name itself when none is
// registered.
func DisplayName(name string) string {
	if id, ok := IdentityOf(name); ok && id.Display != "" {
		return id.Display
	}
	return name
}

// Rank orders names for tables and legends: by Identity.Order, then
// unordered names after them (callers break ties by name).
func Rank(name string) int {
	if id, ok := IdentityOf(name); ok && id.Order > 0 {
		return id.Order
	}
	return 1 << 30
}

// Known reports whether name has a registered identity.
func Known(name string) bool {
	_, ok := IdentityOf(name)
	return ok
}

// SplitAblation splits an ablation label into the algorithm it ablates
// and the part removed: from the registered identity when there is one,
// else by the "<algorithm>-no-<part>" naming convention (results written
// by other tools or under other spellings).
func SplitAblation(label string) (base, part string, ok bool) {
	if id, found := IdentityOf(label); found && id.Base != "" {
		return id.Base, id.Ablation, true
	}
	i := strings.Index(strings.ToLower(label), "-no-")
	if i <= 0 || i+4 >= len(label) {
		return "", "", false
	}
	return label[:i], label[i+4:], true
}

// DefaultTarget is the registered algorithm marked Target ("" if none;
// the first by name if several).
func DefaultTarget() string { return first(func(id Identity) bool { return id.Target }) }

// ImitationAlgorithm is the registered algorithm marked Imitation ("" if
// none; the first by name if several).
func ImitationAlgorithm() string { return first(func(id Identity) bool { return id.Imitation }) }

func first(marked func(Identity) bool) string {
	mu.RLock()
	defer mu.RUnlock()
	var names []string
	for n, id := range identities {
		if marked(id) {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	if len(names) == 0 {
		return ""
	}
	return names[0]
}
