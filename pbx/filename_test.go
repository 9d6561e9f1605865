package pbx

import (
	"errors"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestParseFileName(t *testing.T) {
	const conf = "f9e5956e47d460010630009033302ab1"
	for _, tc := range []struct {
		name string
		in   string
		want FileName
		err  string // substring of the error; "" = must succeed
	}{
		{"device with empty field", conf + "-009033302ab1-11--username.pcap",
			FileName{conf, "009033302ab1", "11", "username"}, ""},
		{"no reg name", conf + "-009033302ab1-11.pcap",
			FileName{conf, "009033302ab1", "11", ""}, ""},
		{"single dash reg name", conf + "-009033302ab1-7-anna.pcap",
			FileName{conf, "009033302ab1", "7", "anna"}, ""},
		{"inner dashes with empty field", conf + "-009033302ab1-11--anna-lena.pcap",
			FileName{conf, "009033302ab1", "11", "anna-lena"}, ""},
		{"inner dashes without empty field", conf + "-009033302ab1-11-anna-lena.pcap",
			FileName{conf, "009033302ab1", "11", "anna-lena"}, ""},
		{"uppercase normalised", strings.ToUpper(conf) + "-009033302AB1-0--Anna.pcap",
			FileName{conf, "009033302ab1", "0", "Anna"}, ""},
		{"unicode reg name", conf + "-009033302ab1-3--jürgen müller.pcap",
			FileName{conf, "009033302ab1", "3", "jürgen müller"}, ""},
		{"trailing empty field", conf + "-009033302ab1-11-.pcap",
			FileName{conf, "009033302ab1", "11", ""}, ""},
		{"two empty fields", conf + "-009033302ab1-11--.pcap",
			FileName{conf, "009033302ab1", "11", ""}, ""},

		{"empty", "", FileName{}, "empty"},
		{"no suffix", conf + "-009033302ab1-11--username", FileName{}, "missing .pcap suffix"},
		{"wrong suffix", conf + "-009033302ab1-11--username.wav", FileName{}, "missing .pcap suffix"},
		{"uppercase suffix", conf + "-009033302ab1-11.PCAP", FileName{}, "missing .pcap suffix"},
		{"short confid", conf[:31] + "-009033302ab1-11.pcap", FileName{}, "conference id"},
		{"long confid", conf + "0-009033302ab1-11.pcap", FileName{}, "conference id"},
		{"non-hex confid", "g" + conf[1:] + "-009033302ab1-11.pcap", FileName{}, "conference id"},
		{"only confid", conf + ".pcap", FileName{}, "MAC"},
		{"short mac", conf + "-009033302ab-11.pcap", FileName{}, "MAC"},
		{"mac with colons", conf + "-00:90:33:30:2a:b1-11.pcap", FileName{}, "MAC"},
		{"missing serial", conf + "-009033302ab1.pcap", FileName{}, "serial"},
		{"empty serial", conf + "-009033302ab1--user.pcap", FileName{}, "serial"},
		{"hex serial", conf + "-009033302ab1-1a.pcap", FileName{}, "serial"},
		{"negative serial", conf + "-009033302ab1-+1.pcap", FileName{}, "serial"},
		{"huge serial", conf + "-009033302ab1-123456789012345678901.pcap", FileName{}, "serial"},
		{"three dashes", conf + "-009033302ab1-11---user.pcap", FileName{}, "starts with a dash"},
		{"space padded name", conf + "-009033302ab1-11-- user.pcap", FileName{}, "space"},
		{"slash", conf + "-009033302ab1-11--a/b.pcap", FileName{}, "path separator"},
		{"backslash", conf + "-009033302ab1-11--a\\b.pcap", FileName{}, "path separator"},
		{"dotdot", conf + "-009033302ab1-11--a..b.pcap", FileName{}, `".."`},
		{"traversal", "../" + conf + "-009033302ab1-11.pcap", FileName{}, "path separator"},
		{"percent 2f", conf + "-009033302ab1-11--a%2fb.pcap", FileName{}, "percent"},
		{"percent 2F", conf + "-009033302ab1-11--a%2Fb.pcap", FileName{}, "percent"},
		{"percent other", conf + "-009033302ab1-11--a%41.pcap", FileName{}, "percent"},
		{"NUL", conf + "-009033302ab1-11--a\x00.pcap", FileName{}, "control character"},
		{"newline", conf + "-009033302ab1-11--a\nb.pcap", FileName{}, "control character"},
		{"DEL", conf + "-009033302ab1-11--a\x7fb.pcap", FileName{}, "control character"},
		{"invalid utf8", conf + "-009033302ab1-11--a\xffb.pcap", FileName{}, "UTF-8"},
		{"too long", conf + "-009033302ab1-11--" + strings.Repeat("x", 256) + ".pcap", FileName{}, "longer than 255"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseFileName(tc.in)
			if tc.err != "" {
				if err == nil {
					t.Fatalf("ParseFileName(%q) = %+v, want error containing %q", tc.in, got, tc.err)
				}
				if !errors.Is(err, ErrInvalidFileName) {
					t.Errorf("error %v does not wrap ErrInvalidFileName", err)
				}
				if !strings.Contains(err.Error(), tc.err) {
					t.Errorf("error %q does not contain %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseFileName(%q): %v", tc.in, err)
			}
			if got != tc.want {
				t.Fatalf("ParseFileName(%q) = %+v, want %+v", tc.in, got, tc.want)
			}
		})
	}
}

func TestFileNameMaxLength(t *testing.T) {
	base := "f9e5956e47d460010630009033302ab1-009033302ab1-11--"
	name := base + strings.Repeat("x", MaxFileNameLen-len(base)-len(".pcap")) + ".pcap"
	if len(name) != MaxFileNameLen {
		t.Fatalf("test setup: len %d", len(name))
	}
	if _, err := ParseFileName(name); err != nil {
		t.Fatalf("%d-byte name rejected: %v", len(name), err)
	}
	if _, err := ParseFileName(name[:len(base)] + "y" + name[len(base):]); err == nil {
		t.Fatal("256-byte name accepted")
	}
}

func TestFileNameStringRoundTrip(t *testing.T) {
	in := "F9E5956E47D460010630009033302AB1-009033302AB1-11--anna-lena.pcap"
	f, err := ParseFileName(in)
	if err != nil {
		t.Fatal(err)
	}
	want := "f9e5956e47d460010630009033302ab1-009033302ab1-11-anna-lena.pcap"
	if f.String() != want {
		t.Fatalf("String() = %q, want %q", f.String(), want)
	}
	g, err := ParseFileName(f.String())
	if err != nil || g != f {
		t.Fatalf("reparse = %+v, %v; want %+v", g, err, f)
	}
}

func FuzzParseFileName(f *testing.F) {
	for _, s := range []string{
		"f9e5956e47d460010630009033302ab1-009033302ab1-11--username.pcap",
		"f9e5956e47d460010630009033302ab1-009033302ab1-11-anna-lena.pcap",
		"f9e5956e47d460010630009033302ab1-009033302ab1-0.pcap",
		"../etc/passwd",
		"a%2fb.pcap",
		"",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, name string) {
		fn, err := ParseFileName(name)
		if err != nil {
			if !errors.Is(err, ErrInvalidFileName) {
				t.Fatalf("error %v does not wrap ErrInvalidFileName", err)
			}
			return
		}
		if len(name) > MaxFileNameLen || !utf8.ValidString(name) {
			t.Fatalf("accepted bad name %q", name)
		}
		for _, bad := range []string{"/", "\\", "..", "%", "\x00"} {
			if strings.Contains(fn.RegName, bad) {
				t.Fatalf("reg name %q contains %q", fn.RegName, bad)
			}
		}
		if !IsConfID(fn.ConfID) || fn.ConfID != strings.ToLower(fn.ConfID) || len(fn.MAC) != 12 {
			t.Fatalf("bad fields %+v", fn)
		}
		// The canonical form parses to the same value.
		g, err := ParseFileName(fn.String())
		if err != nil || g != fn {
			t.Fatalf("canonical %q reparsed to %+v, %v; want %+v", fn.String(), g, err, fn)
		}
	})
}

func BenchmarkParseFileName(b *testing.B) {
	b.ReportAllocs()
	name := "f9e5956e47d460010630009033302ab1-009033302ab1-11--anna-lena.pcap"
	for b.Loop() {
		if _, err := ParseFileName(name); err != nil {
			b.Fatal(err)
		}
	}
}
