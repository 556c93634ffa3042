def bom_crlf(a):
    """BOM and CRLF."""
    if a:
        return 1
    return 2

class K:
    def m(self): return 3
