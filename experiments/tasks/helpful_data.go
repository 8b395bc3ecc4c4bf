package tasks

// Embedded facts and word lists for hh-helpful. Kept small and
// unambiguous: one accepted single-word answer per question.

var numberWords = []string{
	"zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
	"eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen",
	"nineteen", "twenty",
}

// reverseWords are 3–6 letters and not palindromes.
var reverseWords = []string{
	"cat", "dog", "sun", "map", "cup", "pen", "box", "hat", "red", "top", "jam", "fog",
	"lamp", "desk", "frog", "milk", "bird", "fish", "rain", "wind", "ship", "star", "tree",
	"book", "door", "moon", "road", "sand", "snow", "wolf", "coin", "bell", "leaf", "rock",
	"apple", "bread", "chair", "cloud", "grape", "horse", "house", "light", "mouse", "music",
	"plant", "river", "stone", "table", "tiger", "water", "garden", "orange", "pencil",
	"rabbit", "winter", "castle", "silver", "bottle", "candle", "forest",
}

type unitPair struct {
	one, many, to string
	factor        int
}

var units = []unitPair{
	{"km", "km", "m", 1000}, {"m", "m", "cm", 100}, {"kg", "kg", "g", 1000},
	{"L", "L", "mL", 1000}, {"hour", "hours", "minutes", 60},
	{"minute", "minutes", "seconds", 60}, {"day", "days", "hours", 24},
	{"week", "weeks", "days", 7}, {"year", "years", "months", 12},
	{"dollar", "dollars", "cents", 100}, {"dozen", "dozen", "eggs", 12},
}

type fact struct{ subject, answer string }

var capitals = []fact{
	{"France", "Paris"}, {"Italy", "Rome"}, {"Spain", "Madrid"}, {"Germany", "Berlin"},
	{"Japan", "Tokyo"}, {"Egypt", "Cairo"}, {"Peru", "Lima"}, {"Norway", "Oslo"},
	{"Greece", "Athens"}, {"Russia", "Moscow"}, {"Kenya", "Nairobi"}, {"Cuba", "Havana"},
	{"Austria", "Vienna"}, {"Poland", "Warsaw"}, {"Ireland", "Dublin"}, {"Portugal", "Lisbon"},
	{"Sweden", "Stockholm"}, {"Canada", "Ottawa"}, {"China", "Beijing"}, {"Chile", "Santiago"},
	{"Thailand", "Bangkok"}, {"Finland", "Helsinki"}, {"Hungary", "Budapest"}, {"Denmark", "Copenhagen"},
}

var colours = []fact{
	{"the sky", "blue"}, {"grass", "green"}, {"snow", "white"}, {"coal", "black"},
	{"a ripe banana", "yellow"}, {"a ripe tomato", "red"}, {"a carrot", "orange"},
	{"milk", "white"}, {"a lemon", "yellow"}, {"an emerald", "green"}, {"a ruby", "red"},
	{"chocolate", "brown"}, {"a plum", "purple"}, {"the sea", "blue"}, {"a crow", "black"},
	{"a lime", "green"}, {"soil", "brown"}, {"a pumpkin", "orange"},
}

var colourNames = []string{"blue", "green", "white", "black", "yellow", "red", "orange", "brown", "purple", "pink", "grey"}

// opposites are used in both directions.
var opposites = [][2]string{
	{"hot", "cold"}, {"big", "small"}, {"up", "down"}, {"fast", "slow"}, {"happy", "sad"},
	{"light", "dark"}, {"open", "closed"}, {"early", "late"}, {"full", "empty"}, {"hard", "soft"},
	{"high", "low"}, {"left", "right"}, {"wet", "dry"}, {"rich", "poor"}, {"loud", "quiet"},
	{"long", "short"}, {"thick", "thin"}, {"strong", "weak"}, {"win", "lose"}, {"push", "pull"},
	{"buy", "sell"}, {"top", "bottom"}, {"day", "night"}, {"north", "south"}, {"east", "west"},
	{"first", "last"}, {"inside", "outside"}, {"before", "after"}, {"always", "never"},
	{"true", "false"}, {"clean", "dirty"}, {"cheap", "expensive"}, {"young", "old"},
}

var evasions = []string{
	"I'm not sure about that.", "I don't know, sorry.", "Hard to say, really.",
	"You should look it up.", "No idea, ask someone else.", "Sorry, I can't help with that.",
}

var irrelevant = []string{
	"I like turtles.", "The weather is nice today.", "Cats are great pets.",
	"Let's talk about music.", "I had toast for breakfast.", "Whales are huge animals.",
}

var politePrefixes = []string{"Well, ", "Okay, so ", "Hmm, ", "So, ", "Ah, "}
