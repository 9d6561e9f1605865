package pbx

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// checkGolden compares v, as indented JSON, with the golden file path. Run the tests with
// PBX_UPDATE_GOLDEN=1 to rewrite the golden files after an intended change.
func checkGolden(t *testing.T, path string, v any) {
	t.Helper()
	got, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	got = append(got, '\n')
	if os.Getenv("PBX_UPDATE_GOLDEN") == "1" {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with PBX_UPDATE_GOLDEN=1 to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("%s differs from the parse result:\n%s", path, got)
	}
}

func TestGoldenCDRs(t *testing.T) {
	files, err := filepath.Glob("testdata/cdr/*.xml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no CDR test files: %v", err)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			cdrs := readCDRs(t, filepath.Base(f))
			checkGolden(t, strings.TrimSuffix(f, ".xml")+".golden.json", cdrs)
		})
	}
}

func TestGoldenGatewayCDRs(t *testing.T) {
	files, err := filepath.Glob("testdata/gateway/*.txt")
	if err != nil || len(files) == 0 {
		t.Fatalf("no gateway test files: %v", err)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			recs := readGateway(t, filepath.Base(f))
			for i := range recs {
				recs[i].Raw = "" // the text itself; the golden file holds the parse
			}
			checkGolden(t, strings.TrimSuffix(f, ".txt")+".golden.json", recs)
		})
	}
}
