// Teacher module
