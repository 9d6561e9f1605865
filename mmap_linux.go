package main

import "syscall"

// mapPopulate asks Linux to read the mapping in ahead of the first touch.
const mapPopulate = syscall.MAP_POPULATE
