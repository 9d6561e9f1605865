package main

import (
	"io"
	"testing"
)

// The instance's domain and password come from the flags, else the
// environment.
func TestServeInstanceFlags(t *testing.T) {
	t.Setenv("RECORDINGS_DOMAIN", "env.example")
	t.Setenv("RECORDINGS_INSTANCE_PASSWORD", "env-instance-password")
	c, err := parseServeFlags(nil, io.Discard)
	if err != nil || c.domain != "env.example" || c.instancePass != "env-instance-password" {
		t.Fatalf("from the environment: %q %q %v", c.domain, c.instancePass, err)
	}
	c, err = parseServeFlags([]string{"-domain", "flag.example", "-instance-password", "flag-instance-password"}, io.Discard)
	if err != nil || c.domain != "flag.example" || c.instancePass != "flag-instance-password" {
		t.Fatalf("from the flags: %q %q %v", c.domain, c.instancePass, err)
	}
}
