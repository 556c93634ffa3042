def f():
    s = """never closed
    return 1
