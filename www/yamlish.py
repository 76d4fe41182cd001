"""A tiny YAML emitter, enough to show a WSGI environ (a helper, not a page).

The mod_wsgi article dumps the environ with PyYAML; pypages' demo uses the
standard library only, so this module writes the same kind of YAML itself:
block mappings and sequences, strings quoted only when YAML would misread
them, and Python objects tagged `!!python/object:module.Class {}` the way
PyYAML shows them. It only writes YAML; it never reads it.
"""

import re
import types

# Plain (unquoted) strings that a YAML reader would turn into something else:
# booleans and nulls (YAML 1.1 spellings too), numbers, dates, times.
_SPECIAL_WORDS = {'', '~', 'null', 'true', 'false', 'yes', 'no', 'on', 'off',
                  'y', 'n', '.inf', '-.inf', '+.inf', '.nan', '<<', '=', '-',
                  '?', ':'}
_LOOKS_TYPED = re.compile(
    r'[-+]?(\.?[0-9][0-9_:.,]*([eE][-+]?[0-9]+)?|0[xXoObB][0-9a-fA-F_]+)'
    r'|\d{4}-\d\d?-\d\d?([Tt ].*)?')
# A plain scalar may not start with an indicator character...
_INDICATORS = set('-?:,[]{}#&*!|>\'"%@`')
# ...nor contain ": " or " #", nor end in ":" (they would start a mapping or a
# comment), nor start with "..." (at a line's start it ends the document).


def _printable(ch):
    """Characters safe to write as they are in a UTF-8 YAML document.

    Not: control characters, a byte-order mark, and the characters YAML 1.1
    counts as line breaks (U+0085, U+2028, U+2029).
    """
    o = ord(ch)
    return (o == 0x09 or 0x20 <= o <= 0x7E or 0xA0 <= o <= 0x2027
            or 0x202A <= o <= 0xD7FF or 0xE000 <= o <= 0xFFFD and o != 0xFEFF
            or o >= 0x10000)


def _double_quoted(s):
    # Double quotes are the only style that can escape anything, e.g. the
    # bytes of a non-UTF-8 URL, which reach WSGI as latin-1 characters.
    out = []
    for ch in s:
        if ch in '"\\':
            out.append('\\' + ch)
        elif ch == '\n':
            out.append('\\n')
        elif ch == '\t':
            out.append('\\t')
        elif _printable(ch):
            out.append(ch)
        elif ord(ch) <= 0xFF:
            out.append('\\x%02x' % ord(ch))
        else:
            out.append('\\u%04x' % ord(ch))
    return '"' + ''.join(out) + '"'


def quote(s, flow=False):
    """Return the string `s` as a YAML scalar, quoted only if it must be.

    Inside [...] or {...} (flow=True) a plain string must not contain ,[]{}.
    """
    if not all(_printable(ch) for ch in s) or '\t' in s:
        return _double_quoted(s)
    if (s.lower() in _SPECIAL_WORDS or _LOOKS_TYPED.fullmatch(s)
            or s[0] in _INDICATORS or s[0] == ' ' or s[-1] in ' :'
            or s.startswith('...')
            or ': ' in s or ' #' in s
            or flow and any(ch in ',[]{}' for ch in s)):
        # Single quotes take everything printable; a ' is written twice.
        return "'" + s.replace("'", "''") + "'"
    return s


def _scalar(value, flow=False):
    """One-line YAML for `value`; dicts and lists here are written inline."""
    if value is None:
        return 'null'
    if isinstance(value, bool):       # before int: True is an int too
        return 'true' if value else 'false'
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if value != value:
            return '.nan'
        if value in (float('inf'), float('-inf')):
            return '.inf' if value > 0 else '-.inf'
        return repr(value)
    if isinstance(value, str):
        return quote(value, flow)
    if isinstance(value, (bytes, bytearray)):
        import base64
        return '!!binary ' + base64.b64encode(bytes(value)).decode('ascii')
    if isinstance(value, tuple):      # e.g. wsgi.version, (1, 0)
        return '!!python/tuple ' + _scalar(list(value))
    if isinstance(value, list):
        return '[' + ', '.join(_scalar(v, True) for v in value) + ']'
    if isinstance(value, dict):
        return '{' + ', '.join(_scalar(k, True) + ': ' + _scalar(v, True)
                               for k, v in value.items()) + '}'
    # Functions, methods and classes are named; other objects are shown by
    # their type only (their contents are not ours to dump).
    if isinstance(value, (type, types.FunctionType, types.BuiltinFunctionType,
                          types.MethodType)):
        module = getattr(value, '__module__', None) or 'builtins'
        name = getattr(value, '__qualname__', None) or repr(value)
        return "!!python/name:%s.%s ''" % (module, name)
    cls = type(value)
    return '!!python/object:%s.%s {}' % (cls.__module__, cls.__qualname__)


def _is_block(value):
    return isinstance(value, (dict, list)) and len(value) > 0


def _lines(value):
    """The YAML lines for `value`, at indentation 0."""
    if isinstance(value, dict) and value:
        lines = []
        for key in sorted(value, key=str):   # sorted, as PyYAML does
            item = value[key]
            if _is_block(item):
                lines.append(_scalar(key) + ':')
                lines.extend('  ' + line for line in _lines(item))
            else:
                lines.append(_scalar(key) + ': ' + _scalar(item))
        return lines
    if isinstance(value, list) and value:
        lines = []
        for item in value:
            # A nested block starts on the "- " line and the rest of it is
            # indented to line up under its first character.
            sub = _lines(item)
            lines.append('- ' + sub[0])
            lines.extend('  ' + line for line in sub[1:])
        return lines
    return [_scalar(value)]


def dump(value):
    """Return `value` (dicts, lists, strings, numbers, objects) as YAML text."""
    return '\n'.join(_lines(value)) + '\n'
