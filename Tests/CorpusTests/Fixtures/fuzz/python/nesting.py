@dec(1)
class A(B, metaclass=M):
    async def m(self, *a, b=[1, (2, {3: 4})], **k) -> 'A':
        if (n := len(a)) > 1:
            return [i async for i in g() if i]
        \
            pass
        '''doc
        '''
	def g(): yield from h()
