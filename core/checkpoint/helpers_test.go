package checkpoint

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"testing"

	"github.com/grao-lab/grao/core/model"
	"github.com/grao-lab/grao/core/tokenizer"
)

// tinyConfig is the smallest config that still exercises every tensor kind,
// the value head included.
func tinyConfig() model.Config {
	return model.Config{VocabSize: tokenizer.VocabSize, DModel: 8, NLayer: 1, NHead: 2, Context: 4, LNEps: 1e-5, ValueHead: true}
}

// perturbed returns model.Init(c, seed) with every tensor moved by seeded
// noise: non-zero biases and layer-norm shifts, gains away from 1, and
// weights large enough that attention is far from uniform. A layout bug
// (transposed weight, swapped q/k/v, bias on the wrong tensor) then
// changes the output instead of hiding behind zeros and ones.
func perturbed(t testing.TB, c model.Config, seed uint64) *model.Params {
	t.Helper()
	p, err := model.Init(c, seed)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(seed, 0x70657274)) // "pert"
	for _, x := range p.All() {
		s := 0.1 // biases, layer-norm shifts and gains
		switch {
		case x == p.WTE || x == p.WPE:
			s = 0.3
		case len(x.Shape) == 2:
			s = 0.6 / math.Sqrt(float64(x.Shape[0]))
		}
		for i := range x.Data {
			x.Data[i] += float32(rng.NormFloat64() * s)
		}
	}
	return p
}

func saveTiny(t *testing.T, meta map[string]string) (string, *model.Params) {
	t.Helper()
	p := perturbed(t, tinyConfig(), 1)
	dir := t.TempDir()
	if err := Save(dir, p, meta); err != nil {
		t.Fatal(err)
	}
	return dir, p
}

// rawTensor is one tensor as raw bytes, for building (broken) files by hand.
type rawTensor struct {
	Name  string
	DType string
	Shape []int
	Data  []byte
}

// splitFile decodes a valid safetensors file into its metadata and tensors.
func splitFile(t *testing.T, b []byte) (map[string]string, []rawTensor) {
	t.Helper()
	h, err := ReadHeader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	var ts []rawTensor
	for _, e := range h.Tensors {
		ts = append(ts, rawTensor{e.Name, e.DType, e.Shape, b[h.DataStart+e.Begin : h.DataStart+e.End]})
	}
	return h.Metadata, ts
}

// joinFile writes tensors contiguously under a header built from a generic
// map, so tests can put anything in it.
func joinFile(meta map[string]string, ts []rawTensor) []byte {
	hdr := map[string]any{}
	if meta != nil {
		hdr[metadataKey] = meta
	}
	var data []byte
	for _, x := range ts {
		hdr[x.Name] = map[string]any{"dtype": x.DType, "shape": x.Shape, "data_offsets": []int{len(data), len(data) + len(x.Data)}}
		data = append(data, x.Data...)
	}
	j, _ := json.Marshal(hdr)
	return rawFile(string(j), data)
}

// rawFile frames a header string and data bytes.
func rawFile(header string, data []byte) []byte {
	var b bytes.Buffer
	binary.Write(&b, binary.LittleEndian, uint64(len(header)))
	b.WriteString(header)
	b.Write(data)
	return b.Bytes()
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func writeFile(t *testing.T, path string, b []byte) {
	t.Helper()
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// dirFiles lists the names in dir, sorted.
func dirFiles(t *testing.T, dir string) []string {
	t.Helper()
	es, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range es {
		names = append(names, e.Name())
	}
	sort.Strings(names)
	return names
}

func weightsPath(dir string) string { return filepath.Join(dir, WeightsFile) }
