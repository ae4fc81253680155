// (removed once monitor/ has sources)
