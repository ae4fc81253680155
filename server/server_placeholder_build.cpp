// (removed once server/ has sources)
