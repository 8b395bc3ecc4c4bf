#!/usr/bin/env python3
"""Independent reader for the event files grao writes (tensorboard_test.go).

Shares no code with the Go package: CRC-32C is computed here in pure Python,
and the Event messages are built at run time from a FileDescriptorProto
assembled below, with TensorBoard's package name and field numbers, then
decoded by python3-protobuf. A mismatch with the Go writer therefore points
at the writer, not at a bug both sides share.

Usage: read_events.py FILE
Prints one JSON object per record:
  {"step": ..., "wall_time": ..., "file_version": ...}   or
  {"step": ..., "wall_time": ..., "values": {tag: value}}
Exits 1 with a message on stderr at the first bad CRC or torn record.
"""

import json
import struct
import sys

from google.protobuf import descriptor_pb2, descriptor_pool, message_factory


def _crc32c_table():
    poly = 0x82F63B78  # Castagnoli, bit-reflected
    table = []
    for i in range(256):
        c = i
        for _ in range(8):
            c = (c >> 1) ^ poly if c & 1 else c >> 1
        table.append(c)
    return table


_TABLE = _crc32c_table()


def crc32c(data):
    c = 0xFFFFFFFF
    for b in data:
        c = _TABLE[(c ^ b) & 0xFF] ^ (c >> 8)
    return c ^ 0xFFFFFFFF


def masked_crc32c(data):
    c = crc32c(data)
    return ((((c >> 15) | (c << 17)) & 0xFFFFFFFF) + 0xA282EAD8) & 0xFFFFFFFF


def _event_class():
    F = descriptor_pb2.FieldDescriptorProto
    fdp = descriptor_pb2.FileDescriptorProto(
        name="grao_read_events.proto", package="tensorboard", syntax="proto3")

    summary = fdp.message_type.add(name="Summary")
    value = summary.nested_type.add(name="Value")
    value.oneof_decl.add(name="value")
    value.field.add(name="tag", number=1, type=F.TYPE_STRING, label=F.LABEL_OPTIONAL)
    value.field.add(name="simple_value", number=2, type=F.TYPE_FLOAT,
                    label=F.LABEL_OPTIONAL, oneof_index=0)
    summary.field.add(name="value", number=1, type=F.TYPE_MESSAGE,
                      label=F.LABEL_REPEATED, type_name=".tensorboard.Summary.Value")

    event = fdp.message_type.add(name="Event")
    event.oneof_decl.add(name="what")
    event.field.add(name="wall_time", number=1, type=F.TYPE_DOUBLE, label=F.LABEL_OPTIONAL)
    event.field.add(name="step", number=2, type=F.TYPE_INT64, label=F.LABEL_OPTIONAL)
    event.field.add(name="file_version", number=3, type=F.TYPE_STRING,
                    label=F.LABEL_OPTIONAL, oneof_index=0)
    event.field.add(name="summary", number=5, type=F.TYPE_MESSAGE, label=F.LABEL_OPTIONAL,
                    oneof_index=0, type_name=".tensorboard.Summary")

    pool = descriptor_pool.DescriptorPool()
    pool.Add(fdp)
    desc = pool.FindMessageTypeByName("tensorboard.Event")
    if hasattr(message_factory, "GetMessageClass"):  # protobuf >= 4.22
        return message_factory.GetMessageClass(desc)
    return message_factory.MessageFactory(pool).GetPrototype(desc)


def read_records(f):
    index, offset = 0, 0
    while True:
        header = f.read(12)
        if not header:
            return
        where = "record %d at byte offset %d" % (index, offset)
        if len(header) < 12:
            raise ValueError("%s: truncated header (%d bytes)" % (where, len(header)))
        length, length_crc = struct.unpack("<QI", header)
        if length_crc != masked_crc32c(header[:8]):
            raise ValueError("%s: bad length CRC" % where)
        data = f.read(length)
        if len(data) < length:
            raise ValueError("%s: truncated data (%d of %d bytes)" % (where, len(data), length))
        footer = f.read(4)
        if len(footer) < 4:
            raise ValueError("%s: truncated data CRC" % where)
        if struct.unpack("<I", footer)[0] != masked_crc32c(data):
            raise ValueError("%s: bad data CRC" % where)
        yield data
        index += 1
        offset += 12 + length + 4


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: read_events.py FILE")
    Event = _event_class()
    with open(sys.argv[1], "rb") as f:
        try:
            for data in read_records(f):
                ev = Event.FromString(data)
                out = {"step": ev.step, "wall_time": ev.wall_time}
                what = ev.WhichOneof("what")
                if what == "file_version":
                    out["file_version"] = ev.file_version
                elif what == "summary":
                    out["values"] = {v.tag: v.simple_value for v in ev.summary.value
                                     if v.WhichOneof("value") == "simple_value"}
                print(json.dumps(out))
        except ValueError as e:
            sys.exit("read_events.py: %s" % e)


if __name__ == "__main__":
    main()
