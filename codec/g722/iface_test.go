package g722_test

import (
	"recordings/codec"
	"recordings/codec/g722"
	"testing"
)

var _ codec.Decoder = (*g722.Decoder)(nil)

func TestInterface(t *testing.T) {
	var d codec.Decoder = g722.NewDecoder()
	if d.Name() != "G722" || d.SampleRate() != 16000 || d.ClockRate() != 8000 ||
		d.FrameSamples() != 160 || d.MaxSamples(80) != 160 {
		t.Fatalf("got %s %d %d %d %d", d.Name(), d.SampleRate(), d.ClockRate(), d.FrameSamples(), d.MaxSamples(80))
	}
}
