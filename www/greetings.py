"""A helper module, not a page: it defines no `application`.

greet.py imports it with a plain `import greetings`, which works because
pypages puts each script's own folder on sys.path (under Apache mod_wsgi you
had to add it yourself). Requesting /greetings.py gives a 404: a module
without an `application` is never run for a request, and never sent.
"""

# Kept here rather than in greet.py so that more than one page could share it.
GREETINGS = {
    'en': 'Hello, {name}!',
    'fr': 'Bonjour, {name} !',
    'es': '¡Hola, {name}!',
    'de': 'Hallo, {name}!',
}


def greet(name, lang='en'):
    """Return a greeting for `name` as plain text (the caller escapes it)."""
    name = name.strip() or 'World'
    return GREETINGS.get(lang, GREETINGS['en']).format(name=name)
