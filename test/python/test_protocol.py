"""The frame format, against the vectors shared with lib/worker/protocol.ts."""

import io
import json
import os
import threading
import unittest
from unittest import mock

from pypages_worker import protocol
from pypages_worker.protocol import (HEADER_SIZE, MAX_PAYLOAD, Frame, FrameReader,
                                     FrameWriter, ProtocolError, decode, encode)

from fakes import FIXTURES

with open(os.path.join(FIXTURES, "protocol-vectors.json")) as f:
    VECTORS = json.load(f)
ALL = b"".join(bytes.fromhex(v["frame_hex"]) for v in VECTORS)


class Trickle(io.RawIOBase):
    """A raw stream that returns at most `step` bytes per read."""

    def __init__(self, data, step):
        self.data, self.step = memoryview(data), step

    def readable(self):
        return True

    def readinto(self, buf):
        n = min(len(buf), self.step, len(self.data))
        buf[:n], self.data = self.data[:n], self.data[n:]
        return n


def read_all(source):
    return list(FrameReader(source))


class SharedVectors(unittest.TestCase):
    def test_has_vectors(self):
        self.assertGreater(len(VECTORS), 5)

    def test_encode(self):
        for v in VECTORS:
            with self.subTest(v["name"]):
                frame = encode(v["type"], v["id"], bytes.fromhex(v["payload_hex"]))
                self.assertEqual(frame.hex(), v["frame_hex"])

    def test_decode(self):
        for v in VECTORS:
            with self.subTest(v["name"]):
                frame = decode(bytes.fromhex(v["frame_hex"]))
                self.assertEqual(frame, Frame(v["type"], v["id"], bytes.fromhex(v["payload_hex"])))

    def test_type_constants_match_the_names_in_the_vectors(self):
        names = {"REQUEST": protocol.REQUEST, "CREDIT": protocol.CREDIT, "ABORT": protocol.ABORT,
                 "PING": protocol.PING, "READY": protocol.READY, "START": protocol.START,
                 "END": protocol.END, "READ": protocol.READ, "WATCH": protocol.WATCH}
        for v in VECTORS:
            word = v["name"].split()[0]
            if word in names:
                self.assertEqual(v["type"], names[word], v["name"])


class Reader(unittest.TestCase):
    def test_several_frames_in_one_read(self):
        frames = read_all(io.BytesIO(ALL))
        self.assertEqual([f.type for f in frames], [v["type"] for v in VECTORS])

    def test_frames_split_across_reads(self):
        for step in (1, 2, 7, HEADER_SIZE, 100):
            with self.subTest(step=step):
                frames = read_all(io.BufferedReader(Trickle(ALL, step), 3))
                self.assertEqual([f.payload.hex() for f in frames],
                                 [v["payload_hex"] for v in VECTORS])

    def test_reads_from_a_file_descriptor(self):
        r, w = os.pipe()
        threading.Thread(target=lambda: (os.write(w, ALL), os.close(w))).start()
        try:
            self.assertEqual(len(read_all(r)), len(VECTORS))
        finally:
            os.close(r)

    def test_clean_eof_between_frames_ends_iteration(self):
        self.assertEqual(read_all(io.BytesIO(b"")), [])

    def test_eof_mid_header_raises_a_clear_error(self):
        with self.assertRaisesRegex(ProtocolError, "end of file inside a frame"):
            read_all(io.BytesIO(ALL[:4]))

    def test_eof_mid_payload_raises_a_clear_error(self):
        frame = encode(protocol.RESPONSE_BODY, 1, b"hello")
        with self.assertRaisesRegex(ProtocolError, "end of file inside a frame"):
            read_all(io.BytesIO(frame[:-2]))

    def test_oversize_length_rejected(self):
        header = protocol.HEADER.pack(protocol.BODY, 1, MAX_PAYLOAD + 1)
        with self.assertRaisesRegex(ProtocolError, "exceeds"):
            FrameReader(io.BytesIO(header)).read()


class Encode(unittest.TestCase):
    def test_refuses_an_oversize_payload(self):
        with self.assertRaises(ValueError):
            encode(protocol.RESPONSE_BODY, 1, bytes(MAX_PAYLOAD + 1))

    def test_refuses_out_of_range_ids_and_types(self):
        for type_, id_ in ((256, 0), (-1, 0), (1, 2 ** 32), (1, -1)):
            with self.assertRaises(ValueError):
                encode(type_, id_)

    def test_uint32_round_trip(self):
        self.assertEqual(protocol.read_uint32(protocol.uint32(0xFFFFFFFE)), 0xFFFFFFFE)

    def test_uint32_of_wrong_size_rejected(self):
        with self.assertRaises(ProtocolError):
            protocol.read_uint32(b"\0\0\0")

    def test_json_round_trip_and_errors(self):
        obj = {"a": "caf\u00e9", "b": [1, None], "c": "\udcff"}
        self.assertEqual(protocol.load_json(protocol.dump_json(obj)), obj)
        for bad in (b"{", b"[1]", b"\xff"):
            with self.assertRaises(ProtocolError):
                protocol.load_json(bad)

    def test_load_json_reads_as_json_loads_does(self):
        self.assertEqual(protocol.load_json(b' \t{"a": [1, 2.5, null]}\r\n'), {"a": [1, 2.5, None]})
        self.assertEqual(protocol.load_json(memoryview(b'{"a":"\\u00e9"}')), {"a": "\u00e9"})
        for bad, message in ((b"", "Expecting value: line 1 column 1"),
                             (b"{} x", "Extra data: line 1 column 4"),
                             (b'{"a":1}{"b":2}', "Extra data: line 1 column 8"),
                             ("\ufeff{}".encode(), "Unexpected UTF-8 BOM"),
                             (b'{"a":1,}', "Expecting property name")):
            with self.subTest(bad):
                with self.assertRaisesRegex(ProtocolError, "^bad JSON payload: " + message):
                    protocol.load_json(bad)

    def test_start_payload_is_what_dump_json_makes(self):
        cases = [("200 OK", []),
                 ("404 Not \u00c9t\u00e9 \"found\"\t\\",
                  [["X-A", "caf\u00e9 \"q\" \\ \t\x80\xff"], ["Set-Cookie", ""]]),
                 ("500 \udcff", [("Content-Length", "12")])]
        for status, headers in cases:
            with self.subTest(status):
                expected = protocol.dump_json({"status": status, "headers": [list(h) for h in headers]})
                self.assertEqual(protocol.start_payload(status, headers), expected)


class Writer(unittest.TestCase):
    def test_send_many_writes_the_frames_encode_makes(self):
        frames = [(protocol.START, 7, b'{"status":"200 OK"}'), (protocol.RESPONSE_BODY, 7, memoryview(b"xHello")[1:]),
                  (protocol.RESPONSE_BODY, 8, bytearray(b"ab")), (protocol.END, 0xFFFFFFFF, b"")]
        r, w = os.pipe()
        FrameWriter(w).send_many(frames)
        os.close(w)
        with os.fdopen(r, "rb") as f:
            self.assertEqual(f.read(), b"".join(encode(*frame) for frame in frames))
        for bad in ((256, 1, b""), (1, -1, b""), (1, 1, bytes(MAX_PAYLOAD + 1))):
            with self.assertRaises(ValueError):
                FrameWriter(-1).send_many([(protocol.END, 1, b""), bad])

    def test_large_frames_leave_uncopied_and_whole_through_short_writes(self):
        # Past GATHER_BELOW, send_many writes headers and payloads with os.writev; a write cut
        # short (a signal) is resumed where it stopped, mid-header or mid-payload.
        frames = [(protocol.START, 3, b'{"status":"200 OK","headers":[]}'),
                  (protocol.RESPONSE_BODY, 3, bytes(range(256)) * 300),
                  (protocol.RESPONSE_BODY, 3, memoryview(b"y" * 70001)[1:]),
                  (protocol.RESPONSE_BODY, 3, bytearray(b"z" * 65536)), (protocol.END, 3, b"{}")]
        r, w = os.pipe()
        got, calls = [], []
        reader = threading.Thread(target=lambda: got.append(os.fdopen(r, "rb").read()))
        reader.start()

        def short_writev(fd, parts):  # writes at most 5 bytes, or 7777, of what it is given
            calls.append(len(parts))
            data = b"".join(bytes(p) for p in parts)
            return os.write(fd, data[:5 if len(calls) % 2 else 7777])

        with mock.patch.object(protocol.os, "writev", short_writev):
            FrameWriter(w).send_many(frames)
        os.close(w)
        reader.join()
        self.assertEqual(got[0], b"".join(encode(*frame) for frame in frames))
        self.assertGreater(len(calls), 50)

    def test_concurrent_frames_never_interleave(self):
        r, w = os.pipe()
        writer = FrameWriter(w)
        payloads = [bytes([i]) * 70000 for i in range(8)]  # bigger than a pipe buffer
        threads = [threading.Thread(target=writer.send, args=(protocol.RESPONSE_BODY, i, p))
                   for i, p in enumerate(payloads)]
        for t in threads:
            t.start()
        reader = FrameReader(r)
        frames = [reader.read() for _ in payloads]
        for t in threads:
            t.join()
        os.close(w)
        os.close(r)
        self.assertEqual(sorted((f.id, f.payload) for f in frames), list(enumerate(payloads)))


class FrameReaderReadinessTests(unittest.TestCase):
    def test_buffered_and_absorb(self):
        r, w = os.pipe()
        self.addCleanup(os.close, r)
        reader = FrameReader(r)
        self.assertFalse(reader.buffered())
        reader.absorb()  # nothing there: returns at once
        os.write(w, encode(protocol.BODY, 1, b"ab") + encode(protocol.BODY, 2, b"c")[:4])
        reader.absorb()
        self.assertTrue(reader.buffered())
        self.assertEqual(reader.read().id, 1)
        self.assertFalse(reader.buffered())  # half a frame
        os.write(w, encode(protocol.BODY, 2, b"c")[4:])
        self.assertEqual(reader.read().payload, b"c")
        os.close(w)
        reader.absorb()  # end of file, remembered
        self.assertIsNone(reader.read())


if __name__ == "__main__":
    unittest.main()
