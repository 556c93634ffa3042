# -*- coding: latin-1 -*-
def café():
    return "été"


class Z:
    def m(self, x="ü"):
        """Döc."""
        return x
