module recordings

go 1.26

require github.com/pion/rtp v1.10.6

require github.com/pion/randutil v0.1.0 // indirect
