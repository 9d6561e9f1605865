package main

import (
	"context"
	"fmt"
	"io"
)

// Run executes one subcommand; main is a thin shell around it.
func Run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cmd := "serve"
	if len(args) > 0 && args[0] != "" && args[0][0] != '-' {
		cmd, args = args[0], args[1:]
	}
	switch cmd {
	case "version":
		fmt.Fprintln(stdout, "recordings", version)
		return nil
	default:
		return fmt.Errorf("unknown command %q (try: serve, convert, inspect, version)", cmd)
	}
}
