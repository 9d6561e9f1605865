module recordings

go 1.26
