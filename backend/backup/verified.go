package backup

import (
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"time"
)

// verifiedName is the file in a backup's folder that records its last
// verification. It is not one of the backup's files (the manifest does not
// list it): it says what Verify found, it proves nothing.
const verifiedName = "verified.json"

// maxVerifiedSize bounds verified.json: a larger one is ignored.
const maxVerifiedSize = 64 << 10

// Verification is the outcome of a backup's last verification.
type Verification struct {
	At time.Time `json:"at"`
	OK bool      `json:"ok"`
	// Failed names the first check that failed, with its detail.
	Failed string `json:"failed,omitempty"`
}

// recordVerification writes rep's outcome beside the backup; a failure to
// write it is not the verification's.
func (s *Store) recordVerification(rep *Report) {
	v := Verification{At: s.now().UTC(), OK: rep.OK}
	for _, c := range rep.Checks {
		if c.Status == StatusFailed {
			v.Failed = c.Name
			if c.File != "" {
				v.Failed += " (" + c.File + ")"
			}
			if c.Detail != "" {
				v.Failed += ": " + c.Detail
			}
			break
		}
	}
	data, err := json.Marshal(v)
	if err == nil && len(data) > maxVerifiedSize {
		v.Failed = v.Failed[:maxVerifiedSize/2]
		data, err = json.Marshal(v)
	}
	if err == nil {
		_ = replaceFile(filepath.Join(s.dir, rep.ID), verifiedName, data)
	}
}

// Verifications returns the last verification of each backup that has
// one, by ID.
func (s *Store) Verifications() (map[string]Verification, error) {
	entries, err := os.ReadDir(s.dir)
	if err != nil {
		return nil, err
	}
	out := map[string]Verification{}
	for _, e := range entries {
		if !e.IsDir() || !ValidID(e.Name()) {
			continue
		}
		data, err := readLimited(filepath.Join(s.dir, e.Name(), verifiedName), maxVerifiedSize)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		} else if err != nil {
			return nil, err
		}
		var v Verification
		if len(data) <= maxVerifiedSize && json.Unmarshal(data, &v) == nil {
			out[e.Name()] = v
		}
	}
	return out, nil
}
