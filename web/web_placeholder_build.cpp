// (removed once web/ has sources)
