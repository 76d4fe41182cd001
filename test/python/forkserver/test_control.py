"""The fork server's command and event lines, against the vectors shared with Node and the spec's tables."""

import json
import os
import re
import unittest

from pypages_worker.forkserver import control
from pypages_worker.forkserver.control import ControlError, LineReader, LineTooLong

from fakes import FIXTURES, PACKAGE_PARENT

with open(os.path.join(FIXTURES, "forkserver-vectors.json")) as f:
    VECTORS = json.load(f)
SPEC = os.path.join(os.path.dirname(PACKAGE_PARENT), "worker", "launch", "forkserver-protocol.md")
TOKEN = "0123456789abcdef0123456789abcdef"


def line_of(vector):
    """The vector's bytes, its newline included."""
    if "line_hex" in vector:
        return bytes.fromhex(vector["line_hex"])
    return vector["line"].encode("utf-8") + b"\n"


def command(**overrides):
    cmd = {"cmd": "fork", "token": TOKEN, "cwd": "/", "env": {}, "argv": ["--root", "/"]}
    cmd.update(overrides)
    return json.dumps(cmd).encode()


class SharedVectors(unittest.TestCase):
    def check_both_ways(self, vectors, decode, encode):
        self.assertGreater(len(vectors), 4)
        for v in vectors:
            with self.subTest(v["name"]):
                line = line_of(v)
                self.assertEqual(line[-1:], b"\n")
                self.assertEqual(decode(line[:-1]), v["object"])
                if v.get("decode_only"):
                    self.assertNotEqual(encode(v["object"]), line, "a canonical line: drop decode_only")
                else:
                    self.assertEqual(encode(v["object"]), line)

    def check_rejected(self, vectors, decode):
        self.assertGreater(len(vectors), 10)
        for v in vectors:
            with self.subTest(v["name"]):
                with self.assertRaises(ControlError):
                    decode(line_of(v)[:-1])

    def test_commands(self):
        self.check_both_ways(VECTORS["commands"], control.decode_command, control.encode_command)

    def test_events(self):
        self.check_both_ways(VECTORS["events"], control.decode_event, control.encode_event)

    def test_malformed_commands_are_rejected(self):
        self.check_rejected(VECTORS["malformed_commands"], control.decode_command)

    def test_malformed_events_are_rejected(self):
        self.check_rejected(VECTORS["malformed_events"], control.decode_event)

    def test_every_command_and_event_has_a_vector(self):
        self.assertEqual({v["object"]["cmd"] for v in VECTORS["commands"]}, set(control.COMMANDS))
        self.assertEqual({v["object"]["event"] for v in VECTORS["events"]}, set(control.EVENTS))

    def test_connection_headers(self):
        for v in VECTORS["connections"]:
            with self.subTest(v["name"]):
                header = control.connection_header(v["token"], v["kind"].encode("ascii"))
                self.assertEqual(header.hex(), v["header_hex"])
        for token, kind in ((TOKEN[:31], b"F"), (TOKEN, b"X"), (b"x" * 32, b"F")):
            with self.assertRaises(ControlError):
                control.connection_header(token, kind)


class SpecTables(unittest.TestCase):
    """lib/worker/launch/forkserver-protocol.md's tables name the same fields, in the same order, of the same types."""

    def table(self, heading):
        with open(SPEC) as f:
            section = f.read().split("\n## %s" % heading, 1)[1].split("\n## ", 1)[0]
        rows = {}
        for name, fields in re.findall(r"^\| `([a-z-]+)` +\| ([^|]+)\|", section, re.M):
            rows[name] = re.findall(r"`([a-z]+)` ([a-z]+(?: or null)?)", fields)
        return rows

    def test_commands_table(self):
        expected = {name: [(f, t.name) for f, t in fields] for name, fields in control.COMMANDS.items()}
        self.assertEqual(self.table("Commands"), expected)

    def test_events_table(self):
        expected = {name: [(f, t.name) for f, t in fields] for name, fields in control.EVENTS.items()}
        self.assertEqual(self.table("Events"), expected)


class Encode(unittest.TestCase):
    def test_an_event_that_breaks_the_spec_is_not_written(self):
        for event in ({"event": "exit", "pid": 7, "code": None, "signal": None},
                      {"event": "forked", "token": TOKEN, "pid": 7},
                      {"event": "pong", "id": -1},
                      {"event": "ready", "pid": 1, "python": "3", "executable": None, "preloaded": [], "failed": []}):
            with self.subTest(event):
                self.assertRaises(ControlError, control.encode_event, event)

    def test_an_event_longer_than_its_limit_is_not_written(self):
        huge = {"event": "fork-failed", "token": TOKEN, "error": "x" * control.MAX_EVENT_LINE}
        self.assertRaises(LineTooLong, control.encode_event, huge)

    def test_fields_come_in_the_spec_order_and_only_those(self):
        line = control.encode_event({"pid": 3, "signal": None, "code": 0, "event": "exit", "extra": 1})
        self.assertEqual(line, b'{"event":"exit","pid":3,"code":0,"signal":null}\n')


class ParseCommand(unittest.TestCase):
    def test_a_fork_command(self):
        cmd = control.decode_command(command(env={"A": "1"}))
        self.assertEqual((cmd["token"], cmd["cwd"], cmd["env"], cmd["argv"]), (TOKEN, "/", {"A": "1"}, ["--root", "/"]))

    def test_a_ping(self):
        self.assertEqual(control.decode_command(b'{"cmd": "ping", "id": 7}'), {"cmd": "ping", "id": 7})
        for line in (b'{"cmd": "ping"}', b'{"cmd": "ping", "id": "7"}', b'{"cmd": "ping", "id": true}'):
            with self.subTest(line=line):
                self.assertRaises(ValueError, control.decode_command, line)

    def test_rejects_what_is_not_a_well_formed_fork_command(self):
        bad = [b"not json", b"[]", json.dumps({"cmd": "exec"}).encode(), command(token="short"),
               command(token="g" * 31 + "\u00e9"), command(cwd="relative"), command(env={"A": 1}),
               command(env=[]), command(argv="--root /"), command(argv=[1]), b"\xff\n"]
        for line in bad:
            with self.subTest(line=line):
                self.assertRaises(ValueError, control.decode_command, line)

    def test_says_which_field_is_wrong(self):
        with self.assertRaisesRegex(ControlError, "a ping's id must be an integer from 0 to 9007199254740991"):
            control.decode_command(b'{"cmd":"ping","id":-1}')
        with self.assertRaisesRegex(ControlError, "a fork's argv is missing"):
            control.decode_command(b'{"cmd":"fork","token":"%s","cwd":"/","env":{}}' % TOKEN.encode())


class Lines(unittest.TestCase):
    def test_lines_split_across_reads_and_empty_lines_skipped(self):
        reader = LineReader(100)
        got = []
        for chunk in (b'{"a"', b":1}\n\n{", b'"b":2}\n{"c"', b":3}\n"):
            got += list(reader.feed(chunk))
        self.assertEqual(got, [b'{"a":1}', b'{"b":2}', b'{"c":3}'])

    def test_a_line_of_the_limit_passes_and_one_byte_more_does_not(self):
        self.assertEqual(list(LineReader(5).feed(b"12345\n")), [b"12345"])
        with self.assertRaises(LineTooLong):
            list(LineReader(5).feed(b"123456\n"))

    def test_an_unfinished_line_over_the_limit_raises_after_the_lines_before_it(self):
        reader, got = LineReader(5), []
        with self.assertRaises(LineTooLong):
            for line in reader.feed(b"ok\n123"):
                got.append(line)
            for line in reader.feed(b"456"):
                got.append(line)
        self.assertEqual(got, [b"ok"])


if __name__ == "__main__":
    unittest.main()
