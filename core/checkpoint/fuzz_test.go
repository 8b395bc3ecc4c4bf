package checkpoint

import (
	"bytes"
	"math"
	"testing"
)

// FuzzReadHeader feeds arbitrary bytes to the reader. It must never panic
// or allocate beyond the input, and whatever it accepts must be
// self-consistent: tensors tiling the data, readable, and (for F32) equal
// after a Write/ReadHeader round trip.
func FuzzReadHeader(f *testing.F) {
	var valid bytes.Buffer
	p := perturbed(f, tinyConfig(), 1)
	var ns []Named
	for _, x := range p.All()[:4] { // keep the seed small
		ns = append(ns, Named{x.Name, x.Shape, x.Data})
	}
	if err := Write(&valid, ns, map[string]string{"k": "v"}); err != nil {
		f.Fatal(err)
	}
	f.Add(valid.Bytes())
	f.Add(valid.Bytes()[:valid.Len()-3])
	f.Add(rawFile(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"BF16","shape":[],"data_offsets":[8,10]}}`, make([]byte, 10)))
	f.Add(rawFile(`{"__metadata__":{"x":"y"}}`, nil))
	f.Add(rawFile(`{"a":{"dtype":"F32","shape":[0],"data_offsets":[0,0]}}  `, nil))
	f.Add([]byte("\xff\xff\xff\xff\xff\xff\xff\xff{}"))
	f.Fuzz(func(t *testing.T, b []byte) {
		r := bytes.NewReader(b)
		h, err := ReadHeader(r, int64(len(b)))
		if err != nil {
			if err.Error() == "" {
				t.Fatal("empty error message")
			}
			return
		}
		dataLen := int64(len(b)) - h.DataStart
		var at int64
		allF32 := true
		for _, x := range h.Tensors {
			if x.Begin != at || x.End < x.Begin || x.End > dataLen {
				t.Fatalf("accepted bad layout: %+v at %d of %d", x, at, dataLen)
			}
			at = x.End
			allF32 = allF32 && x.DType == "F32"
		}
		if at != dataLen {
			t.Fatalf("accepted tensors covering %d of %d bytes", at, dataLen)
		}
		if !allF32 {
			return
		}
		var ns []Named
		for _, x := range h.Tensors {
			d, err := ReadFloat32(r, h, x)
			if err != nil {
				t.Fatalf("accepted tensor unreadable: %v", err)
			}
			ns = append(ns, Named{x.Name, x.Shape, d})
		}
		var out bytes.Buffer
		if err := Write(&out, ns, h.Metadata); err != nil {
			// Write refuses only names it could not have written itself.
			for _, x := range ns {
				if x.Name == metadataKey {
					return
				}
			}
			t.Fatalf("re-writing an accepted file: %v", err)
		}
		h2, err := ReadHeader(bytes.NewReader(out.Bytes()), int64(out.Len()))
		if err != nil {
			t.Fatalf("re-written file rejected: %v", err)
		}
		if len(h2.Tensors) != len(ns) || len(h2.Metadata) != len(h.Metadata) {
			t.Fatalf("round trip changed the header: %d→%d tensors", len(ns), len(h2.Tensors))
		}
		for _, x := range h2.Tensors {
			d, err := ReadFloat32(bytes.NewReader(out.Bytes()), h2, x)
			if err != nil {
				t.Fatal(err)
			}
			var orig []float32
			for _, n := range ns {
				if n.Name == x.Name {
					orig = n.Data
				}
			}
			if len(orig) != len(d) {
				t.Fatalf("%q: %d values, want %d", x.Name, len(d), len(orig))
			}
			for i := range d {
				if math.Float32bits(d[i]) != math.Float32bits(orig[i]) {
					t.Fatalf("%q[%d] changed in round trip", x.Name, i)
				}
			}
		}
	})
}
