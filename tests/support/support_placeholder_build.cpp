// (removed once tests/support has sources)
