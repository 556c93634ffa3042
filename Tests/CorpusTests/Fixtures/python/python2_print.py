def py2():
    print "hello"
