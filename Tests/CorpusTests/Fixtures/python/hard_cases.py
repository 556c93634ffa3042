"""Module docstring mentioning def fake(): pass."""
import functools
from typing import Dict, List, Optional

# def commented_out(): pass
TEXT = "def not_a_function(): pass"
MULTI = """
def also_not_a_function():
    return 1
"""


def simple():
    return 1


def one_liner(): return 1


def one_liner_doc(): "doc"; return 2


async def coroutine(x: int, /, y: int = 2, *args, z: "int" = 3, **kwargs) -> Dict[str, int]:
    """Docstring
    over two lines."""
    async with lock:  # comment
        pass
    async for item in source():
        await item
    return {}


@functools.lru_cache(maxsize=None)
@staticmethod
def decorated(a,
              b=(1, 2),
              c={'k': [3, 4]},
              d=lambda q, r: (q, r),
              ) -> Optional[int]:
    # a comment line
    if a and b or c:
        return [x for x in range(3) if x if not x]
    elif a:
        pass
    else:
        return None
    value = a if b else c
    total = 1 + \
        2 + \
        3
    while total:
        total -= 1
    else:
        total = None
    return {k: v for k, v in d.items()}


class Outer:
    attr = 1

    def method(self):
        def helper(n):
            class Local:
                def inner_method(self):
                    return n
            return Local
        return helper

    class Inner:
        def deep(self, *, flag=False) -> list:
            return [self]

        @property
        def prop(self) -> int:
            return 1

        @prop.setter
        def prop(self, value) -> None:
            self._v = value

    if True:
        def conditional_method(self):
            try:
                pass
            except (ValueError, TypeError) as e:
                raise
            except KeyError:
                pass
            else:
                pass
            finally:
                pass

    try:
        def in_try(self): pass
    except Exception:
        def in_try(self): return None


if __debug__:
    def conditional():
        with open("f") as fh, open("g") as gh:
            assert fh
        return fh

    with open("x") as context:
        def in_with():
            return context
else:
    def conditional():
        return None


def fstrings(name, width):
    a = f"{name!r:>{width}} def {name.upper()} {'x' if name else 'y'}"
    b = f'''{
        name
    } and {len(name)}'''
    c = rf"\d{name}" f"{{literal}}" "plain"
    return a + b + c


def matcher(command):
    match command.split():
        case [action]:
            return action
        case [action, obj] if obj:
            return obj
        case Point(x=0, y=0) | {"k": _}:
            return None
        case _:
            return command


def soft_keywords(match, case, type):
    match = match(case)
    return match, case, type


def annotated(
    a: List[int],  # comment inside parentheses
    b: "Dict[str, int]" = None,
) -> "Outer":
    x: int = 1
    y = [
        1,  # comment
        2,
    ]
    return (lambda: x if y else None)()


def generators(data):
    yield from (d for d in data if d)
    return sum(x * y for x in data for y in data if x and y or not x)


def trailing_comment():
    return 1
    # this comment is after the last statement


def semicolons(): x = 1; y = 2; return x + y


def nested_parens(a=((1, 2), (3, [4, (5,)]))):
    return a[0][1:2], a[::2]


def backslash_def(a, \
                  b):
    return a \
        + b


def string_continuation():
    s = "abc\
def"
    t = 'it\'s'
    return s + t


def bytes_first():
    b"not a docstring"
    return 0


def fstring_first():
    f"not a docstring"
    return 0


def walrus(items):
    if (n := len(items)) > 10:
        return n
    return [y for x in items if (y := x)]


def global_qualname():
    global late_bound
    def late_bound():
        pass


def unicode_names(café=1, naïve="ü"):
    return café, naïve


lambda_assigned = lambda: None


def last_function_no_newline():
    return "end"
