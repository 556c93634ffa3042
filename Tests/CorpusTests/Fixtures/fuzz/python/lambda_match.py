match p:
    case [x, *rest] if x: print(lambda y=0: y ** 2)
    case {'k': v}: pass
x = 0x_1F + 1_000j + .5e-3
