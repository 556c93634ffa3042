// Jobs module
