package main

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"testing"

	"recordings/internal/callgen"
)

func TestVersion(t *testing.T) {
	var out bytes.Buffer
	if err := Run(context.Background(), []string{"version"}, &out, &out); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(out.String(), "recordings ") {
		t.Fatalf("version printed %q", out.String())
	}
}

func TestConvertAndInspect(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "call.pcap")
	call := callgen.Default(50)
	if err := os.WriteFile(in, call.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "call.wav")
	var stdout bytes.Buffer
	// convert sets its own GOGC; the caller's is back afterwards.
	defer debug.SetGCPercent(debug.SetGCPercent(137))
	if err := Run(context.Background(), []string{"convert", in, out}, &stdout, &stdout); err != nil {
		t.Fatal(err)
	}
	if p := debug.SetGCPercent(137); p != 137 {
		t.Fatalf("GOGC after convert is %d, not the caller's 137", p)
	}
	wav, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if want := 44 + 4*call.Samples(); len(wav) != want {
		t.Fatalf("wav has %d bytes, want %d", len(wav), want)
	}
	if ch := binary.LittleEndian.Uint16(wav[22:]); ch != 2 {
		t.Fatalf("wav has %d channels", ch)
	}

	stdout.Reset()
	if err := Run(context.Background(), []string{"inspect", in}, &stdout, &stdout); err != nil {
		t.Fatal(err)
	}
	var rep struct {
		DurationMS int64 `json:"duration_ms"`
		Streams    []struct {
			Direction string `json:"direction"`
			Codec     string `json:"codec"`
			Packets   int    `json:"packets"`
		} `json:"streams"`
	}
	if err := json.Unmarshal(stdout.Bytes(), &rep); err != nil {
		t.Fatalf("inspect output is not JSON: %v\n%s", err, stdout.String())
	}
	if rep.DurationMS != 1000 || len(rep.Streams) != 2 || rep.Streams[0].Direction != "local" || rep.Streams[0].Codec != "PCMA" ||
		rep.Streams[1].Direction != "remote" || rep.Streams[1].Codec != "PCMU" || rep.Streams[0].Packets != 50 {
		t.Fatalf("inspect: %+v", rep)
	}
}

func TestConvertBadInput(t *testing.T) {
	dir := t.TempDir()
	text := filepath.Join(dir, "notes.txt")
	if err := os.WriteFile(text, []byte("not a capture"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"convert", text, filepath.Join(dir, "x.wav")}, "not a pcap"},
		{[]string{"convert", filepath.Join(dir, "missing.pcap"), filepath.Join(dir, "x.wav")}, "no such file"},
		{[]string{"convert", text}, "usage"},
		{[]string{"inspect"}, "usage"},
		{[]string{"frobnicate"}, "unknown command"},
	} {
		err := Run(context.Background(), tc.args, &bytes.Buffer{}, &bytes.Buffer{})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: err = %v, want it to mention %q", tc.args, err, tc.want)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "x.wav")); err == nil {
		t.Error("a failed convert left an output file")
	}
}
