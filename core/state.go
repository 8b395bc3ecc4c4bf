package core

// Stateful is implemented by a component whose output depends on what it
// did before, such as a reward that draws from a random stream across
// steps. A mid-trial checkpoint saves its state and a resumed trial
// restores it, so the resumed trial continues exactly as an uninterrupted
// one would. Components without such state need not implement it; a
// component that has state and does not implement it makes resumed trials
// differ from uninterrupted ones.
type Stateful interface {
	MarshalState() ([]byte, error)
	UnmarshalState([]byte) error
}
