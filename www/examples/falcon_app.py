"""A Falcon application as one pypages page.

Needs Falcon for the interpreter pypages runs (Debian: python3-falcon, then
start pypages with --python /usr/bin/python3). Falcon routes PATH_INFO, the
part of the URL after this script's URL:

    /items                 GET: JSON list; POST a JSON object {"name": ...}: 201 and the new item
    /items/{item_id:int}   JSON; unknown id: Falcon's own 404 (a JSON error)
    /boom                  an exception: Falcon's own 500
    anything else          Falcon's own 404
"""

import traceback

import falcon

ITEMS = {1: {"id": 1, "name": "Alarm clock"}, 2: {"id": 2, "name": "Desk lamp"}}


class ItemList:
    def on_get(self, req, resp):
        resp.media = {"items": sorted(ITEMS.values(), key=lambda i: i["id"]), "prefix": req.app}

    def on_post(self, req, resp):
        data = req.get_media()
        if not isinstance(data, dict) or not isinstance(data.get("name"), str):
            raise falcon.HTTPBadRequest(title="Bad item", description='Send a JSON object with a "name" string.')
        item = {"id": max(ITEMS) + 1, "name": data["name"]}
        ITEMS[item["id"]] = item
        resp.status = falcon.HTTP_201
        # req.app is SCRIPT_NAME: the Location includes this script's URL.
        resp.location = "%s/items/%d" % (req.app, item["id"])
        resp.media = item


class Item:
    def on_get(self, req, resp, item_id):
        if item_id not in ITEMS:
            raise falcon.HTTPNotFound(description="No item %d" % item_id)
        resp.media = ITEMS[item_id]


class Boom:
    def on_get(self, req, resp):
        raise RuntimeError("boom in a Falcon resource")


def log_error(req, resp, ex, params):
    """Falcon's default for unexpected exceptions is a bare 500: log the traceback too."""
    req.env["wsgi.errors"].write("".join(traceback.format_exception(type(ex), ex, ex.__traceback__)))
    raise falcon.HTTPInternalServerError()


app = falcon.App()
app.add_route("/items", ItemList())
app.add_route("/items/{item_id:int}", Item())
app.add_route("/boom", Boom())
app.add_error_handler(Exception, log_error)

application = app
