"""A Flask application as one pypages page.

Needs Flask for the interpreter pypages runs (Debian: python3-flask, then
start pypages with --python /usr/bin/python3). Every URL below starts with
this script's own URL, /examples/flask_app.py, which Flask sees as
SCRIPT_NAME; the rest of the path is Flask's to route:

    /                 links to everything, built with url_for()
    /hello/<name>     plain text
    /api/items        JSON
    /go               a redirect (302) to /hello/redirected
    /visits           a counter kept in Flask's signed session cookie
    /upload           a form; POST a file and get its name, size and SHA-256
    /stream           a body sent in pieces as it is produced (no Content-Length)
"""

import hashlib

from flask import Flask, Response, jsonify, redirect, request, session, stream_with_context, url_for

app = Flask(__name__)
# Signs the session cookie. A demo value: a real site reads its secret from
# the environment or a file outside the document root.
app.secret_key = "pypages-demo-only-change-me"

ITEMS = [{"id": 1, "name": "Alarm clock"}, {"id": 2, "name": "Desk lamp"}]


@app.route("/")
def index():
    links = [
        url_for("hello", name="World"), url_for("items"), url_for("go"),
        url_for("visits"), url_for("upload"), url_for("stream"),
    ]
    items = "".join('<li><a href="%s">%s</a></li>' % (link, link) for link in links)
    return "<!DOCTYPE html><title>Flask on pypages</title><h1>Flask on pypages</h1><ul>%s</ul>" % items


@app.route("/hello/<name>")
def hello(name):
    return Response("Hello, %s!" % name, mimetype="text/plain")


@app.route("/api/items")
def items():
    return jsonify(items=ITEMS, url=url_for("items"), external_url=url_for("items", _external=True))


@app.route("/go")
def go():
    return redirect(url_for("hello", name="redirected"))


@app.route("/visits")
def visits():
    session["visits"] = session.get("visits", 0) + 1
    return jsonify(visits=session["visits"])


@app.route("/upload", methods=["GET", "POST"])
def upload():
    if request.method == "GET":
        return ('<!DOCTYPE html><title>Upload</title><form method="post" enctype="multipart/form-data">'
                '<input type="file" name="file"> <button>Upload</button></form>')
    sent = request.files.get("file")
    if sent is None:
        return jsonify(error="no file field named 'file'"), 400
    data = sent.read()
    return jsonify(filename=sent.filename, size=len(data), sha256=hashlib.sha256(data).hexdigest())


@app.route("/stream")
def stream():
    def lines():
        for i in range(1, 6):
            yield "line %d of 5\n" % i
    # stream_with_context keeps `request` usable while the generator runs.
    return Response(stream_with_context(lines()), mimetype="text/plain")


# pypages calls the module's `application`: a Flask app is a WSGI callable.
application = app
