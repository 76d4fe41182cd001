"""A Django project in one file, as one pypages page.

Needs Django for the interpreter pypages runs (Debian: python3-django, then
start pypages with --python /usr/bin/python3). The settings are configured
here instead of in a settings module, and this module is its own URLconf.
Django takes its script prefix from SCRIPT_NAME, so reverse() builds URLs
that start with this script's URL:

    /              a page linking to the form, built with reverse()
    /greet/        a form posted back to itself, protected by Django's CSRF check
    /greet         redirected to /greet/ by CommonMiddleware (APPEND_SLASH)
"""

from html import escape

from django.conf import settings

if not settings.configured:  # once per worker process; a reload starts a new one
    settings.configure(
        DEBUG=False,
        # A demo value: a real site reads its secret from the environment.
        SECRET_KEY="pypages-demo-only-change-me",
        ROOT_URLCONF=__name__,
        # Any Host is accepted so the demo works however it is reached; a real
        # site lists its own names, which protects against Host header attacks.
        ALLOWED_HOSTS=["*"],
        MIDDLEWARE=[
            "django.middleware.common.CommonMiddleware",
            "django.middleware.csrf.CsrfViewMiddleware",
        ],
        USE_TZ=True,
    )

from django.core.wsgi import get_wsgi_application  # noqa: E402 (needs the settings)
from django.http import HttpResponse  # noqa: E402
from django.middleware.csrf import get_token  # noqa: E402
from django.urls import path, reverse  # noqa: E402


def home(request):
    greet = reverse("greet")
    return HttpResponse(
        '<!DOCTYPE html><title>Django on pypages</title><h1>Django on pypages</h1>'
        '<p><a href="%s">%s</a>: a form with a CSRF token.</p>' % (escape(greet), escape(greet))
    )


def greet(request):
    if request.method == "POST":
        name = request.POST.get("name", "").strip() or "stranger"
        return HttpResponse("<!DOCTYPE html><title>Hello</title><p>Hello, %s!</p>" % escape(name))
    # get_token() also sets the csrftoken cookie the POST must send back.
    return HttpResponse(
        '<!DOCTYPE html><title>Greet</title><form method="post" action="%s">'
        '<input type="hidden" name="csrfmiddlewaretoken" value="%s">'
        '<input name="name" placeholder="Your name"> <button>Greet me</button></form>'
        % (escape(reverse("greet")), escape(get_token(request)))
    )


urlpatterns = [
    path("", home, name="home"),
    path("greet/", greet, name="greet"),
]

application = get_wsgi_application()
