package kernels

import "fmt"

// Embed computes h[i,:] = wte[ids[i],:] + wpe[i%t,:] for i < len(ids): the
// GPT-2 input embedding of a [batch, t] block of token ids flattened row by
// row, so position i%t restarts for every sequence.
func Embed[T Float](h, wte, wpe []T, ids []int, t, d int) {
	checkPositive("Embed", t)
	checkLen("Embed", "h", len(h), len(ids)*d)
	checkLen("Embed", "wpe", len(wpe), t*d)
	for i, id := range ids {
		checkID("Embed", i, id, len(wte), d)
		p := i % t
		hr := h[i*d : i*d+d]
		er := wte[id*d : id*d+d]
		pr := wpe[p*d : p*d+d]
		for j := range hr {
			hr[j] = er[j] + pr[j]
		}
	}
}

// EmbedBackward overwrites dwte and dwpe (each may be nil) with the gradient
// of Σ dh·h: rows of dwte for repeated ids and rows of dwpe for repeated
// positions accumulate within the call; nothing is carried over from
// earlier calls.
func EmbedBackward[T Float](dwte, dwpe, dh []T, ids []int, t, d int) {
	checkPositive("EmbedBackward", t)
	checkLen("EmbedBackward", "dh", len(dh), len(ids)*d)
	if dwte != nil {
		clear(dwte)
	}
	if dwpe != nil {
		checkLen("EmbedBackward", "dwpe", len(dwpe), t*d)
		clear(dwpe)
	}
	for i, id := range ids {
		dr := dh[i*d : i*d+d]
		if dwte != nil {
			checkID("EmbedBackward", i, id, len(dwte), d)
			er := dwte[id*d : id*d+d]
			for j, g := range dr {
				er[j] += g
			}
		}
		if dwpe != nil {
			p := i % t
			pr := dwpe[p*d : p*d+d]
			for j, g := range dr {
				pr[j] += g
			}
		}
	}
}

func checkID(kernel string, i, id, n, d int) {
	if id < 0 || (id+1)*d > n {
		panic(fmt.Sprintf("kernels.%s: ids[%d] = %d is out of range for a table of %d rows", kernel, i, id, n/max(d, 1)))
	}
}

func checkPositive(kernel string, t int) {
	if t <= 0 {
		panic(fmt.Sprintf("kernels.%s: sequence length t = %d must be positive", kernel, t))
	}
}
