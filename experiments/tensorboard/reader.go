package tensorboard

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"google.golang.org/protobuf/proto"

	"github.com/grao-lab/grao/experiments/tensorboard/eventpb"
)

var (
	// ErrTruncated marks a stream that ends inside a record: the torn tail
	// of a file whose writer crashed, or one still being written.
	ErrTruncated = errors.New("truncated record")
	// ErrCorrupt marks a record whose CRC does not match or whose data is
	// not an Event.
	ErrCorrupt = errors.New("corrupt record")
)

// Read decodes every record of an event file, checking both CRCs of each.
// At the first fault it returns the events before it and an error that
// names the record (counting from 0) and its byte offset, and wraps
// ErrTruncated or ErrCorrupt.
func Read(r io.Reader) ([]*eventpb.Event, error) {
	var (
		events []*eventpb.Event
		off    int64
		hdr    [headerLen]byte
		crc    [footerLen]byte
		data   bytes.Buffer
	)
	for i := 0; ; i++ {
		fail := func(err error, format string, args ...any) ([]*eventpb.Event, error) {
			return events, fmt.Errorf("tensorboard: record %d at byte offset %d: %w: %s", i, off, err, fmt.Sprintf(format, args...))
		}
		n, err := io.ReadFull(r, hdr[:])
		switch {
		case err == io.EOF:
			return events, nil // a clean end between records
		case err == io.ErrUnexpectedEOF:
			return fail(ErrTruncated, "header has %d of %d bytes", n, headerLen)
		case err != nil:
			return fail(err, "reading header")
		}
		if got, want := binary.LittleEndian.Uint32(hdr[8:]), maskedCRC(hdr[:8]); got != want {
			return fail(ErrCorrupt, "length CRC %#08x, want %#08x", got, want)
		}
		size := binary.LittleEndian.Uint64(hdr[:8])
		if size > 1<<62 {
			return fail(ErrCorrupt, "length %d", size)
		}
		// Copied rather than allocated up front: a torn file must not make
		// us allocate whatever its length field claims.
		data.Reset()
		m, err := io.CopyN(&data, r, int64(size))
		if err == io.EOF {
			return fail(ErrTruncated, "data has %d of %d bytes", m, size)
		} else if err != nil {
			return fail(err, "reading data")
		}
		n, err = io.ReadFull(r, crc[:])
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			return fail(ErrTruncated, "data CRC has %d of %d bytes", n, footerLen)
		} else if err != nil {
			return fail(err, "reading data CRC")
		}
		if got, want := binary.LittleEndian.Uint32(crc[:]), maskedCRC(data.Bytes()); got != want {
			return fail(ErrCorrupt, "data CRC %#08x, want %#08x", got, want)
		}
		ev := new(eventpb.Event)
		if err := proto.Unmarshal(data.Bytes(), ev); err != nil {
			return fail(ErrCorrupt, "decoding event: %v", err)
		}
		events = append(events, ev)
		off += headerLen + int64(size) + footerLen
	}
}
