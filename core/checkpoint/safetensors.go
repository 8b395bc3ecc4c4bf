package checkpoint

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// MaxHeaderLen bounds the JSON header. The upstream Rust reader uses the
// same 100 MB limit; anything larger is a corrupt or hostile length field,
// and we must not allocate it before we have looked at the file size.
const MaxHeaderLen = 100_000_000

// metadataKey is the reserved header entry holding string→string metadata.
const metadataKey = "__metadata__"

// dtypeSizes lists the element sizes of the dtypes the format defines.
// The reader accepts all of them (so an F16 file gets "dtype F16 not
// supported" from Load rather than "unknown dtype"); grao writes only F32.
var dtypeSizes = map[string]int{
	"BOOL": 1, "U8": 1, "I8": 1, "F8_E4M3": 1, "F8_E5M2": 1,
	"U16": 2, "I16": 2, "F16": 2, "BF16": 2,
	"U32": 4, "I32": 4, "F32": 4,
	"U64": 8, "I64": 8, "F64": 8,
}

// TensorInfo is one header entry. Begin and End are byte offsets into the
// data section (after the header), End exclusive.
type TensorInfo struct {
	Name       string
	DType      string
	Shape      []int
	Begin, End int64
}

// Header is a decoded and validated safetensors header.
type Header struct {
	// Tensors in data order (ascending Begin); they tile the data section
	// exactly, without gaps or overlaps.
	Tensors  []TensorInfo
	Metadata map[string]string
	// DataStart is the file offset of the data section (8 + header length).
	DataStart int64
}

// Lookup returns the entry called name.
func (h *Header) Lookup(name string) (TensorInfo, bool) {
	for _, t := range h.Tensors {
		if t.Name == name {
			return t, true
		}
	}
	return TensorInfo{}, false
}

// entry is the JSON form of one tensor. Fields are pointers so a missing
// field is told apart from a zero one.
type entry struct {
	DType       *string  `json:"dtype"`
	Shape       *[]int64 `json:"shape"`
	DataOffsets *[]int64 `json:"data_offsets"`
}

// entryKeys are the only keys a tensor entry may have, matched exactly:
// encoding/json alone would also accept "dtYpe", which other readers reject.
var entryKeys = map[string]bool{"dtype": true, "shape": true, "data_offsets": true}

// ReadHeader reads and validates the header of a safetensors file of the
// given size. It allocates at most min(header length, size) bytes, so a
// lying length field cannot exhaust memory, and checks every entry against
// the real data size: known dtype, non-negative shape, offsets inside the
// data, End−Begin = elements × dtype size, entries tiling the data section.
func ReadHeader(r io.ReaderAt, size int64) (*Header, error) {
	if size < 8 {
		return nil, fmt.Errorf("file is %d bytes, too short for the 8-byte header length", size)
	}
	var lenBuf [8]byte
	if _, err := r.ReadAt(lenBuf[:], 0); err != nil {
		return nil, fmt.Errorf("reading header length: %w", err)
	}
	n := binary.LittleEndian.Uint64(lenBuf[:])
	switch {
	case n > MaxHeaderLen:
		return nil, fmt.Errorf("header length %d is absurd (limit %d): not a safetensors file or corrupt", n, MaxHeaderLen)
	case int64(n) > size-8:
		return nil, fmt.Errorf("header length %d exceeds the %d bytes after the length field (truncated file?)", n, size-8)
	case n < 2:
		return nil, fmt.Errorf("header length %d is too small for a JSON object", n)
	}
	raw := make([]byte, n)
	if _, err := r.ReadAt(raw, 8); err != nil {
		return nil, fmt.Errorf("reading %d-byte header: %w", n, err)
	}
	h, err := parseHeader(raw, size-8-int64(n))
	if err != nil {
		return nil, err
	}
	h.DataStart = 8 + int64(n)
	return h, nil
}

// parseHeader decodes the JSON header and validates it against a data
// section of dataLen bytes.
func parseHeader(raw []byte, dataLen int64) (*Header, error) {
	if raw[0] != '{' {
		return nil, fmt.Errorf("header: does not start with '{' (got %q)", raw[0])
	}
	// Stream the top-level object ourselves: encoding/json into a map would
	// silently keep the last of two duplicate keys.
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if _, err := dec.Token(); err != nil {
		return nil, headerJSONError(raw, dec, err)
	}
	h := &Header{Metadata: map[string]string{}}
	seen := map[string]bool{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, headerJSONError(raw, dec, err)
		}
		name, ok := tok.(string)
		if !ok {
			return nil, fmt.Errorf("header: expected a key, got %v", tok)
		}
		if seen[name] {
			return nil, fmt.Errorf("header: duplicate key %q", name)
		}
		seen[name] = true
		var val json.RawMessage
		if err := dec.Decode(&val); err != nil {
			return nil, headerJSONError(raw, dec, err)
		}
		if name == metadataKey {
			if err := decodeStrict(val, &h.Metadata); err != nil {
				return nil, fmt.Errorf("header: %s must map strings to strings: %v", metadataKey, err)
			}
			continue
		}
		t, err := parseEntry(name, val)
		if err != nil {
			return nil, err
		}
		h.Tensors = append(h.Tensors, t)
	}
	if _, err := dec.Token(); err != nil { // closing '}'
		return nil, headerJSONError(raw, dec, err)
	}
	// Only padding may follow the object (writers pad with spaces to an
	// 8-byte boundary).
	rest := raw[dec.InputOffset():]
	if len(bytes.TrimRight(rest, " \t\r\n\x00")) != 0 {
		return nil, fmt.Errorf("header: unexpected data after the JSON object at byte %d", dec.InputOffset())
	}
	if err := checkLayout(h.Tensors, dataLen); err != nil {
		return nil, err
	}
	return h, nil
}

func headerJSONError(raw []byte, dec *json.Decoder, err error) error {
	if errors.Is(err, io.EOF) {
		err = io.ErrUnexpectedEOF
	}
	return fmt.Errorf("header: invalid JSON near byte %d of %d: %v", dec.InputOffset(), len(raw), err)
}

func decodeStrict(val []byte, v any) error {
	d := json.NewDecoder(bytes.NewReader(val))
	d.DisallowUnknownFields()
	return d.Decode(v)
}

func parseEntry(name string, val []byte) (TensorInfo, error) {
	if name == "" {
		return TensorInfo{}, errors.New("header: empty tensor name")
	}
	var keys map[string]json.RawMessage
	if err := json.Unmarshal(val, &keys); err != nil {
		return TensorInfo{}, fmt.Errorf("header: tensor %q: %v", name, err)
	}
	for k := range keys {
		if !entryKeys[k] {
			return TensorInfo{}, fmt.Errorf("header: tensor %q: unknown field %q", name, k)
		}
	}
	var e entry
	if err := decodeStrict(val, &e); err != nil {
		return TensorInfo{}, fmt.Errorf("header: tensor %q: %v", name, err)
	}
	switch {
	case e.DType == nil:
		return TensorInfo{}, fmt.Errorf("header: tensor %q: missing dtype", name)
	case e.Shape == nil:
		return TensorInfo{}, fmt.Errorf("header: tensor %q: missing shape", name)
	case e.DataOffsets == nil:
		return TensorInfo{}, fmt.Errorf("header: tensor %q: missing data_offsets", name)
	}
	es, ok := dtypeSizes[*e.DType]
	if !ok {
		return TensorInfo{}, fmt.Errorf("header: tensor %q: unknown dtype %q", name, *e.DType)
	}
	offs := *e.DataOffsets
	if len(offs) != 2 {
		return TensorInfo{}, fmt.Errorf("header: tensor %q: data_offsets must be [begin, end], got %d numbers", name, len(offs))
	}
	t := TensorInfo{Name: name, DType: *e.DType, Begin: offs[0], End: offs[1]}
	// Element count with overflow checks: a lying shape must not wrap
	// around to a size that happens to match the offsets.
	nbytes := int64(es)
	for i, s := range *e.Shape {
		if s < 0 || s > math.MaxInt32 {
			return TensorInfo{}, fmt.Errorf("header: tensor %q: shape[%d] = %d out of range", name, i, s)
		}
		if s != 0 && nbytes > math.MaxInt64/s {
			return TensorInfo{}, fmt.Errorf("header: tensor %q: shape %v overflows", name, *e.Shape)
		}
		nbytes *= s
		t.Shape = append(t.Shape, int(s))
	}
	if t.Shape == nil {
		t.Shape = []int{} // a scalar; keep it distinct from "no shape"
	}
	if t.Begin < 0 || t.End < t.Begin {
		return TensorInfo{}, fmt.Errorf("header: tensor %q: bad data_offsets [%d, %d]", name, t.Begin, t.End)
	}
	if t.End-t.Begin != nbytes {
		return TensorInfo{}, fmt.Errorf("header: tensor %q: data_offsets [%d, %d] hold %d bytes, but %s%v needs %d",
			name, t.Begin, t.End, t.End-t.Begin, t.DType, t.Shape, nbytes)
	}
	return t, nil
}

// checkLayout sorts ts by offset and requires them to tile [0, dataLen):
// no overlap (two tensors sharing bytes), no gap, nothing past the end.
func checkLayout(ts []TensorInfo, dataLen int64) error {
	sort.SliceStable(ts, func(i, j int) bool {
		if ts[i].Begin != ts[j].Begin {
			return ts[i].Begin < ts[j].Begin
		}
		return ts[i].End < ts[j].End
	})
	var at int64
	for i, t := range ts {
		switch {
		case t.End > dataLen:
			return fmt.Errorf("header: tensor %q: data_offsets [%d, %d] run past the %d-byte data section (truncated file?)", t.Name, t.Begin, t.End, dataLen)
		case t.Begin < at:
			return fmt.Errorf("header: tensor %q: data_offsets [%d, %d] overlap tensor %q", t.Name, t.Begin, t.End, ts[i-1].Name)
		case t.Begin > at:
			return fmt.Errorf("header: tensor %q starts at %d, leaving a gap after byte %d", t.Name, t.Begin, at)
		}
		at = t.End
	}
	if at != dataLen {
		return fmt.Errorf("header: tensors cover %d bytes but the data section has %d (trailing garbage or wrong offsets)", at, dataLen)
	}
	return nil
}

// ReadFloat32 reads the F32 tensor t of a file whose header is h.
func ReadFloat32(r io.ReaderAt, h *Header, t TensorInfo) ([]float32, error) {
	if t.DType != "F32" {
		return nil, fmt.Errorf("tensor %q: dtype %s not supported (grao stores F32)", t.Name, t.DType)
	}
	// Size was validated against the real file size in ReadHeader.
	buf := make([]byte, t.End-t.Begin)
	if len(buf) == 0 {
		// An empty tensor may sit at the very end, where ReadAt reports EOF.
		return []float32{}, nil
	}
	if _, err := r.ReadAt(buf, h.DataStart+t.Begin); err != nil {
		return nil, fmt.Errorf("tensor %q: reading data: %w", t.Name, err)
	}
	out := make([]float32, len(buf)/4)
	for i := range out {
		out[i] = math.Float32frombits(binary.LittleEndian.Uint32(buf[4*i:]))
	}
	return out, nil
}

// Named is one F32 tensor to write.
type Named struct {
	Name  string
	Shape []int
	Data  []float32
}

// Write writes tensors as a safetensors file (F32, little-endian). Output
// is deterministic: tensors and header keys sorted by name (so offsets
// increase with key order, as the Python writer does for same-dtype
// tensors), compact JSON, metadata keys sorted, header padded with spaces
// so the data starts 8-byte aligned.
func Write(w io.Writer, tensors []Named, meta map[string]string) error {
	ts := slices.Clone(tensors)
	sort.Slice(ts, func(i, j int) bool { return ts[i].Name < ts[j].Name })
	var hdr bytes.Buffer
	hdr.WriteByte('{')
	first := true
	sep := func() {
		if !first {
			hdr.WriteByte(',')
		}
		first = false
	}
	if len(meta) > 0 {
		sep()
		hdr.WriteString(strconv.Quote(metadataKey)) // ASCII, no escaping differences
		hdr.WriteByte(':')
		b, err := json.Marshal(meta) // json.Marshal sorts map keys
		if err != nil {
			return err
		}
		hdr.Write(b)
	}
	var off int64
	for i, t := range ts {
		if t.Name == "" || t.Name == metadataKey {
			return fmt.Errorf("safetensors: invalid tensor name %q", t.Name)
		}
		if i > 0 && ts[i-1].Name == t.Name {
			return fmt.Errorf("safetensors: duplicate tensor name %q", t.Name)
		}
		n := 1
		for _, s := range t.Shape {
			if s < 0 {
				return fmt.Errorf("safetensors: tensor %q: negative dimension in shape %v", t.Name, t.Shape)
			}
			n *= s
		}
		if n != len(t.Data) {
			return fmt.Errorf("safetensors: tensor %q: shape %v has %d elements but data has %d", t.Name, t.Shape, n, len(t.Data))
		}
		shape := t.Shape
		if shape == nil {
			shape = []int{}
		}
		name, err := json.Marshal(t.Name)
		if err != nil {
			return err
		}
		sb, _ := json.Marshal(shape)
		sep()
		fmt.Fprintf(&hdr, `%s:{"dtype":"F32","shape":%s,"data_offsets":[%d,%d]}`, name, sb, off, off+int64(4*n))
		off += int64(4 * n)
	}
	hdr.WriteByte('}')
	for (8+hdr.Len())%8 != 0 {
		hdr.WriteByte(' ')
	}
	var lenBuf [8]byte
	binary.LittleEndian.PutUint64(lenBuf[:], uint64(hdr.Len()))
	if _, err := w.Write(lenBuf[:]); err != nil {
		return err
	}
	if _, err := w.Write(hdr.Bytes()); err != nil {
		return err
	}
	buf := make([]byte, 0, 1<<16)
	for _, t := range ts {
		for _, v := range t.Data {
			buf = binary.LittleEndian.AppendUint32(buf, math.Float32bits(v))
			if len(buf) == cap(buf) {
				if _, err := w.Write(buf); err != nil {
					return err
				}
				buf = buf[:0]
			}
		}
	}
	if len(buf) > 0 {
		if _, err := w.Write(buf); err != nil {
			return err
		}
	}
	return nil
}

// shapeString formats a shape as [a, b] for error messages.
func shapeString(s []int) string {
	parts := make([]string, len(s))
	for i, v := range s {
		parts[i] = strconv.Itoa(v)
	}
	return "[" + strings.Join(parts, ", ") + "]"
}
