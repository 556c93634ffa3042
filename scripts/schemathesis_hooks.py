"""Schemathesis hooks for scripts/schemathesis.sh.

Lone UTF-16 surrogates. Python strings may hold a lone surrogate code point (U+D800…U+DFFF), which
json.dumps writes as an escape such as "\\udc80". Such a string is no Unicode text: RFC 8259 §8.2
leaves its meaning undefined and I-JSON (RFC 7493 §2.1) forbids it. The server's decoder (Foundation)
refuses it, and the server answers 400 `invalid_json` (tested in Tests/ServerTests/BadInputTests).
JSON Schema has no keyword that says "valid Unicode", so the spec cannot exclude these strings and
schemathesis would report the 400 as "schema-valid request rejected". This hook drops generated bodies
holding one (in a key or a value, at any depth); nothing else is filtered.
"""
import schemathesis


def _has_lone_surrogate(value):
    if isinstance(value, str):
        return any(0xD800 <= ord(c) <= 0xDFFF for c in value)
    if isinstance(value, dict):
        return any(_has_lone_surrogate(k) or _has_lone_surrogate(v) for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return any(_has_lone_surrogate(v) for v in value)
    return False


@schemathesis.hook
def filter_body(context, body):
    return not _has_lone_surrogate(body)


# Binary bodies. `.npy` / `.npz` request bodies (application/x-npy, application/octet-stream,
# application/x-npz, application/zip) are declared as opaque binary strings: JSON Schema cannot
# describe the NPY/ZIP layouts, so a generated body is random bytes that the server rightly refuses
# with 400 `bad_npy` / `bad_npz`. Those parsers are exercised by the Swift fuzz suites (NPYFuzzTests,
# NPZ and vector-body fuzzing) and by the route tests with real numpy files; here only JSON bodies
# (and body-less requests) are generated.
BINARY = {"application/x-npy", "application/octet-stream", "application/x-npz", "application/zip"}


@schemathesis.hook
def filter_case(context, case):
    return (case.media_type or "").split(";")[0].strip() not in BINARY
