def f(x):
    return rf'(\{{%)(-?\s*)(filter)(\s+)({x})' + f"{x!r:>{10}}" + f'{"a" if x else "b"}'
