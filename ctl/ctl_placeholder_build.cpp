// (removed once ctl/ has sources)
