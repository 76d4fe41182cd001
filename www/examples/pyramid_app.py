"""A Pyramid application as one pypages page.

Needs Pyramid for the interpreter pypages runs (Debian: python3-pyramid, then
start pypages with --python /usr/bin/python3). Pyramid routes PATH_INFO, the
part of the URL after this script's URL, and route_url() puts that URL back:

    /                   JSON links, built with route_url()
    /hello/{name}       JSON greeting
    /items/{id}         JSON; unknown id: Pyramid's own 404 page
    /boom               an exception: Pyramid's own 500 page (traceback to the error log)
    anything else       Pyramid's own 404 page
"""

import traceback

from pyramid.config import Configurator
from pyramid.httpexceptions import HTTPInternalServerError, HTTPNotFound

ITEMS = {"1": "Alarm clock", "2": "Desk lamp"}


def index(request):
    return {"hello": request.route_url("hello", name="World"), "item": request.route_url("item", id="1")}


def hello(request):
    return {"greeting": "Hello, %s!" % request.matchdict["name"], "script_name": request.script_name}


def item(request):
    key = request.matchdict["id"]
    if key not in ITEMS:
        raise HTTPNotFound("No item %s" % key)
    return {"id": key, "name": ITEMS[key], "self": request.route_path("item", id=key)}


def boom(request):
    raise RuntimeError("boom in a Pyramid view")


def server_error(exc, request):
    """Pyramid lets unexpected exceptions escape by default; answer with its own 500 instead."""
    request.environ["wsgi.errors"].write("".join(traceback.format_exception(type(exc), exc, exc.__traceback__)))
    return HTTPInternalServerError()


with Configurator() as config:
    config.add_route("index", "/")
    config.add_route("hello", "/hello/{name}")
    config.add_route("item", "/items/{id}")
    config.add_route("boom", "/boom")
    config.add_view(index, route_name="index", renderer="json")
    config.add_view(hello, route_name="hello", renderer="json")
    config.add_view(item, route_name="item", renderer="json")
    config.add_view(boom, route_name="boom")
    config.add_exception_view(server_error, context=Exception)
    application = config.make_wsgi_app()
