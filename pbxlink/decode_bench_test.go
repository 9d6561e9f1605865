package pbxlink

import (
	"strings"
	"testing"
)

// BenchmarkDecode: one small answer and one large message (the work is the
// JSON scan, linear in the size).
func BenchmarkDecode(b *testing.B) {
	msg := []byte(`{"api":"PbxAdminApi","mt":"CheckAppLicResult","src":"lic-1-2","ok":true}`)
	big := []byte(`{"mt":"X","pad":"` + strings.Repeat("x", 512<<10) + `"}`)
	b.Run("small", func(b *testing.B) {
		for b.Loop() {
			if _, err := Decode(msg); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("512KiB", func(b *testing.B) {
		for b.Loop() {
			if _, err := Decode(big); err != nil {
				b.Fatal(err)
			}
		}
	})
}
