"""The form fields of a body a page read, for the development error page: urlencoded and multipart/form-data."""

import json
import unittest

from pypages_worker import forms

BOUNDARY = "----pypages-test-boundary"


def multipart(parts):
    """A multipart/form-data body of (Content-Disposition, Content-Type or None, bytes) parts."""
    out = b""
    for disposition, content_type, payload in parts:
        out += b"--" + BOUNDARY.encode() + b"\r\nContent-Disposition: " + disposition.encode() + b"\r\n"
        if content_type:
            out += b"Content-Type: " + content_type.encode() + b"\r\n"
        out += b"\r\n" + payload + b"\r\n"
    return out + b"--" + BOUNDARY.encode() + b"--\r\n"


class FormFields(unittest.TestCase):
    """The fields the page had read, for the development page: urlencoded and multipart; nothing else is parsed."""

    def test_urlencoded_fields_in_order_with_reprs_and_blank_values(self):
        data = b"name=Ada+L&age=36&empty=&snow=%E2%98%83&name=again"
        fields = forms.form_fields(data, "application/x-www-form-urlencoded; charset=utf-8")
        self.assertEqual(fields, [["name", "'Ada L'"], ["age", "'36'"], ["empty", "''"], ["snow", "'\u2603'"],
                                  ["name", "'again'"]])

    def test_other_types_and_empty_bodies_give_nothing(self):
        self.assertEqual(forms.form_fields(b'{"a": 1}', "application/json"), [])
        self.assertEqual(forms.form_fields(b"", "application/x-www-form-urlencoded"), [])
        self.assertEqual(forms.form_fields(b"a=1", "multipart/form-data; boundary=x"), [])  # no part
        self.assertEqual(forms.form_fields(b"a=1", "text/plain"), [])

    def test_bounded_in_fields_and_value_length(self):
        data = b"&".join(b"f%d=%s" % (i, b"x" * 500) for i in range(150))
        fields = forms.form_fields(data, "application/x-www-form-urlencoded")
        self.assertEqual(len(fields), forms.MAX_FIELDS)
        self.assertLessEqual(len(fields[0][1]), forms.MAX_REPR + 2)  # its quotes

    def test_the_stream_keeps_only_what_the_page_read_up_to_its_bound(self):
        from pypages_worker.streams import InputStream
        chunks = [b"a=1&b=2", b"&c=3"]
        stream = InputStream(lambda n: chunks.pop(0) if chunks else b"", keep=9)
        self.assertEqual(stream.read(3), b"a=1")
        self.assertEqual(bytes(stream.kept), b"a=1")
        stream.read()
        self.assertEqual(bytes(stream.kept), b"a=1&b=2&c")
        unkept = InputStream(lambda n: b"", keep=0)
        self.assertEqual(bytes(unkept.kept), b"")

    def test_multipart_fields_and_files_named_with_their_size_never_shown(self):
        data = multipart([
            ('form-data; name="name"', "text/plain; charset=utf-8", "Ada \u2603".encode()),
            ('form-data; name="upload"; filename="secret.txt"', "text/plain", b"top secret\r\n"),
            ('form-data; name="note"', None, b"<script>alert(1)</script>"),
            ("form-data", None, b"no name: left out"),
        ])
        fields = forms.form_fields(data, "multipart/form-data; boundary=" + BOUNDARY)
        self.assertEqual(fields, [["name", "'Ada \u2603'"], ["upload", "<file 'secret.txt', 12 bytes>"],
                                  ["note", "'<script>alert(1)</script>'"]])
        self.assertNotIn("top secret", json.dumps(fields))

    def test_multipart_cut_at_the_kept_bound_shows_what_arrived(self):
        data = multipart([('form-data; name="a"', None, b"1"), ('form-data; name="long"', None, b"x" * 5000)])
        cut = data[:data.index(b"xxxx") + 100]
        fields = forms.form_fields(cut, "multipart/form-data; boundary=" + BOUNDARY)
        self.assertEqual(fields[0], ["a", "'1'"])
        self.assertEqual(fields[1][0], "long")
        self.assertTrue(fields[1][1].startswith("'xxx"))

    def test_hostile_multipart_gives_bounded_fields_or_none(self):
        many = multipart([('form-data; name="f%d"' % i, None, b"v") for i in range(300)])
        self.assertEqual(len(forms.form_fields(many, "multipart/form-data; boundary=" + BOUNDARY)), forms.MAX_FIELDS)
        odd_charset = multipart([('form-data; name="x"', "text/plain; charset=no-such-codec", b"caf\xe9")])
        self.assertEqual(forms.form_fields(odd_charset, "multipart/form-data; boundary=" + BOUNDARY),
                         [["x", "'caf\ufffd'"]])
        for junk in (b"\x00\xff" * 1000, b"--" + BOUNDARY.encode() + b"\r\n\r\n" * 500, b"--x--"):
            self.assertIsInstance(forms.form_fields(junk, "multipart/form-data; boundary=" + BOUNDARY), list)
        self.assertIsInstance(forms.form_fields(b"x", "multipart/form-data"), list)  # no boundary at all
