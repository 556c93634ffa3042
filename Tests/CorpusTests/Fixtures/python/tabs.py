class T:
	def tabbed(self):
		if self:
			return 1
		return 2

	def mixed(self):
		x = [1,
		     2]
		return x
