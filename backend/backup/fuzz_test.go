package backup_test

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/covetpy/covet/backend/backup"
)

const validManifest = `{
  "format": 1,
  "id": "20261203T055012.123Z-1a2b3c",
  "kind": "full",
  "dialect": "sqlite",
  "createdAt": "2026-12-03T05:50:12.123Z",
  "source": "/srv/covet_data/covet.db",
  "files": [{"name": "database.sqlite", "size": 8192,
    "sha256": "0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0",
    "plainSize": 8192,
    "plainSha256": "0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0"}],
  "encrypted": false
}`

const encryptedManifest = `{"format":1,"id":"20261203T055012.123Z-1a2b3c","kind":"full","dialect":"sqlite",
"createdAt":"2026-12-03T05:50:12.123Z","source":"a.db","files":[{"name":"database.sqlite.enc","size":9000,
"sha256":"0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0","plainSize":8192,
"plainSha256":"1f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0"}],
"encrypted":true,"keyId":"k1","chunkSize":1048576,"seal":"AQIB"}`

func TestParseManifest(t *testing.T) {
	edit := func(old, new string) string { return strings.Replace(validManifest, old, new, 1) }
	files := strings.Index(validManifest, `"files"`)
	noFiles := validManifest[:files] + `"files": [],` + validManifest[strings.Index(validManifest, "}],")+3:]
	tests := []struct {
		name, data, wantErr string
	}{
		{"valid", validManifest, ""},
		{"encrypted", encryptedManifest, ""},
		{"too large", `{"format":1,"source":"` + strings.Repeat("x", backup.MaxManifestSize) + `"}`, "more than the limit"},
		{"newer format", edit(`"format": 1`, `"format": 2`), "format 2 is not 1"},
		{"unknown field", edit(`"kind"`, `"extra": 1, "kind"`), "unknown field"},
		{"trailing data", validManifest + "{}", "after top-level value"},
		{"traversal id", edit(`"id": "20261203T055012.123Z-1a2b3c"`, `"id": "../x"`), "not a backup ID"},
		{"time differs from id", edit(`05:50:12.123Z"`, `05:50:13.123Z"`), "is not the time of id"},
		{"unknown kind", edit(`"full"`, `"wal"`), `kind "wal"`},
		{"unknown dialect", edit(`"sqlite"`, `"oracle"`), `dialect "oracle"`},
		{"file path", edit(`"database.sqlite"`, `"../database.sqlite"`), "not a plain file name"},
		{"manifest as file", edit(`"database.sqlite"`, `"manifest.json"`), "not a plain file name"},
		{"short checksum", edit(`"sha256": "0f1e`, `"sha256": "0f1`), "not 64 lowercase hex"},
		{"plain but sizes differ", edit(`"plainSize": 8192`, `"plainSize": 8191`), "plain size or checksum differs"},
		{"negative size", edit(`"size": 8192`, `"size": -1`), "negative"},
		{"no files", noFiles, "0 files"},
		{"plain with a key", edit(`"encrypted": false`, `"encrypted": false, "keyId": "k"`), "not encrypted, but keyId"},
		{"encrypted without seal", strings.Replace(encryptedManifest, `,"seal":"AQIB"`, "", 1), "no seal"},
		{"encrypted without key", strings.Replace(encryptedManifest, `"keyId":"k1"`, `"keyId":""`, 1), "keyId"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := backup.ParseManifest([]byte(tt.data))
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("ParseManifest = %v", err)
				}
				if m.ID != "20261203T055012.123Z-1a2b3c" || len(m.Files) != 1 {
					t.Errorf("manifest = %+v", m)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("ParseManifest = %v, want an error containing %q", err, tt.wantErr)
			}
		})
	}
}

// FuzzParseManifest: manifests come from disk, where anyone with access to
// the folder may have written them. Parsing must not panic, and what it
// accepts must survive a round trip.
func FuzzParseManifest(f *testing.F) {
	f.Add([]byte(validManifest))
	f.Add([]byte(encryptedManifest))
	f.Add([]byte(`{"format":1}`))
	f.Add([]byte(`{"format":1,"files":[{"name":"a"},{"name":"a"}]}`))
	f.Add([]byte(`[]`))
	f.Add([]byte(``))
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := backup.ParseManifest(data)
		if err != nil {
			return
		}
		again, err := json.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		m2, err := backup.ParseManifest(again)
		if err != nil {
			t.Fatalf("a parsed manifest does not parse again: %v\n%s", err, again)
		}
		if twice, _ := json.Marshal(m2); !bytes.Equal(twice, again) {
			t.Errorf("round trip changed the manifest:\n got %s\nwant %s", twice, again)
		}
	})
}
