"""A Bottle application as one pypages page.

Needs Bottle for the interpreter pypages runs (Debian: python3-bottle, then
start pypages with --python /usr/bin/python3). Bottle routes PATH_INFO, the
part of the URL after this script's URL:

    /                    links, built with get_url() (they include the script's URL)
    /hello/<name>        plain text
    /items/<id:int>      JSON (Bottle turns a returned dict into JSON); unknown id: 404
    /boom                an exception: Bottle's own 500 page (the traceback goes to the error log)
    anything else        Bottle's own 404 page
"""

import bottle

app = bottle.Bottle()

ITEMS = {1: "Alarm clock", 2: "Desk lamp"}


@app.route("/", name="index")
def index():
    links = [app.get_url("hello", name="World"), app.get_url("item", id=1), app.get_url("boom")]
    items = "".join('<li><a href="%s">%s</a></li>' % (link, link) for link in links)
    return "<!DOCTYPE html><title>Bottle on pypages</title><h1>Bottle on pypages</h1><ul>%s</ul>" % items


@app.route("/hello/<name>", name="hello")
def hello(name):
    bottle.response.content_type = "text/plain; charset=utf-8"
    return "Hello, %s!" % name


@app.route("/items/<id:int>", name="item")
def item(id):
    if id not in ITEMS:
        bottle.abort(404, "No item %d" % id)
    return {"id": id, "name": ITEMS[id], "self": app.get_url("item", id=id)}


@app.route("/boom", name="boom")
def boom():
    raise RuntimeError("boom in a Bottle view")


application = app
