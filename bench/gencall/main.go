// Command gencall writes a generated two-way G.711 call (internal/callgen:
// dummy SIP INVITE with SDP, then PCMA one way and PCMU the other, 20 ms
// packets) as a classic pcap file, for benchmarks such as bench/convert.sh.
package main

import (
	"bufio"
	"flag"
	"fmt"
	"os"

	"recordings/internal/callgen"
)

func main() {
	packets := flag.Int("packets", 30000, "packets per direction (50 a second: 30000 is ten minutes)")
	out := flag.String("o", "call.pcap", "output file")
	flag.Parse()
	if err := write(*out, *packets); err != nil {
		fmt.Fprintln(os.Stderr, "gencall:", err)
		os.Exit(1)
	}
}

func write(name string, packets int) error {
	if packets <= 0 {
		return fmt.Errorf("-packets %d: must be positive", packets)
	}
	f, err := os.Create(name)
	if err != nil {
		return err
	}
	w := bufio.NewWriter(f)
	if err := callgen.Default(packets).Write(w); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", name, err)
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", name, err)
	}
	return f.Close()
}
