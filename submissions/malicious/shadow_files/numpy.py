# A fake numpy: if it shadowed the real one, everything numeric would break or lie.
def int64(value):
    return 0
