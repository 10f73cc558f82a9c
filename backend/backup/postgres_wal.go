package backup

import (
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/covetpy/covet/backend/security/crypto"
)

// WAL archive limits.
const (
	// PGWALIndexFormat is the format of wal/index.json this package writes
	// and reads.
	PGWALIndexFormat = 1
	// MaxPGWALIndexSize bounds wal/index.json: a larger one is refused unread.
	MaxPGWALIndexSize = 64 << 20
	// MaxPGWALFiles bounds the WAL files of one generation (at 16 MiB a
	// segment, 3 TiB of WAL): start a new generation (a new base) before.
	MaxPGWALFiles = 200000

	pgWALDir        = "wal"
	pgWALIndexName  = "index.json"
	pgWALPageSize   = 8192    // XLOG_BLCKSZ: a partial copy is cut at a page boundary
	pgMaxHistory    = 1 << 20 // bytes of a timeline history file
	pgMinSegSize    = 1 << 20
	pgMaxSegSize    = 1 << 30
	pgPartialSuffix = ".partial"
)

// pgWALIndex is wal/index.json: every WAL file of a generation's archive.
type pgWALIndex struct {
	Format int `json:"format"`
	// BaseID is the generation's ID (its base's folder).
	BaseID string `json:"baseId"`
	// SegmentSize is the server's wal_segment_size, in bytes.
	SegmentSize int64 `json:"segmentSize"`
	// Files are the archived WAL files, sorted by WAL name.
	Files []pgWALFile `json:"files"`
	// ArchivedUntil is the server's time when its WAL was flushed through
	// ArchivedUntilLSN, all of which is archived: every commit
	// acknowledged before it is in the archive. Zero before the first sync.
	ArchivedUntil    time.Time `json:"archivedUntil"`
	ArchivedUntilLSN string    `json:"archivedUntilLsn,omitempty"`
	// Closed reports that the archiver stopped: the archive grows no more.
	Closed    bool   `json:"closed"`
	Encrypted bool   `json:"encrypted"`
	ChunkSize int    `json:"chunkSize,omitempty"`
	Seal      string `json:"seal,omitempty"`
}

// pgWALFile is one archived WAL file.
type pgWALFile struct {
	// WAL is the name PostgreSQL asks for: a segment
	// (000000010000000000000003) or a timeline history (00000002.history).
	WAL string `json:"wal"`
	// Partial reports the copy of a segment still being written: its first
	// PlainSize bytes; the rest of the segment is zeros.
	Partial bool `json:"partial,omitempty"`
	// File is the file in wal/ (Name), its sizes and checksums.
	File
	ArchivedAt time.Time `json:"archivedAt"`
}

func pgIndexAD(id string) []byte { return []byte("covet-backup-wal-index-v1\x00" + id) }

func pgWALAD(name string) string { return pgWALDir + "/" + name }

// digest is the SHA-256 of idx's JSON with Seal empty.
func (idx *pgWALIndex) digest() []byte {
	c := *idx
	c.Seal = ""
	data, err := json.Marshal(&c)
	if err != nil {
		panic("backup: marshaling a WAL index: " + err.Error()) // plain data never fails
	}
	sum := sha256.Sum256(data)
	return sum[:]
}

func (idx *pgWALIndex) seal(ring *crypto.Keyring) (err error) {
	if idx.Seal, err = sealDigest(ring, idx.digest(), pgIndexAD(idx.BaseID)); err != nil {
		return fmt.Errorf("sealing the WAL index: %w", err)
	}
	return nil
}

func (idx *pgWALIndex) checkSeal(ring *crypto.Keyring) error {
	if ring == nil {
		return fmt.Errorf("the WAL index is encrypted and the store has no keyring: %w", crypto.ErrUnknownKey)
	}
	if err := openSeal(ring, idx.Seal, idx.digest(), pgIndexAD(idx.BaseID)); err != nil {
		return fmt.Errorf("the WAL index's seal does not authenticate it: the index was changed, or the key is not the one that sealed it: %w", err)
	}
	return nil
}

// parsePGWALIndex decodes and validates wal/index.json.
func parsePGWALIndex(data []byte) (*pgWALIndex, error) {
	if len(data) > MaxPGWALIndexSize {
		return nil, fmt.Errorf("parsing the WAL index: %d bytes is more than the limit of %d", len(data), MaxPGWALIndexSize)
	}
	var idx pgWALIndex
	if err := decodeStrict(data, &idx); err != nil {
		return nil, fmt.Errorf("parsing the WAL index: %w", err)
	}
	if err := idx.validate(); err != nil {
		return nil, fmt.Errorf("parsing the WAL index: %w", err)
	}
	return &idx, nil
}

// validate checks idx's fields, naming the first that is wrong.
func (idx *pgWALIndex) validate() error {
	switch {
	case idx.Format != PGWALIndexFormat:
		return fmt.Errorf("format %d is not %d", idx.Format, PGWALIndexFormat)
	case !ValidID(idx.BaseID):
		return fmt.Errorf("baseId %q is not a backup ID", idx.BaseID)
	case idx.SegmentSize < pgMinSegSize || idx.SegmentSize > pgMaxSegSize || idx.SegmentSize&(idx.SegmentSize-1) != 0:
		return fmt.Errorf("segmentSize %d is not a power of 2 from %d to %d", idx.SegmentSize, pgMinSegSize, pgMaxSegSize)
	case len(idx.Files) > MaxPGWALFiles:
		return fmt.Errorf("%d files, more than %d", len(idx.Files), MaxPGWALFiles)
	}
	if idx.ArchivedUntilLSN != "" {
		if _, err := parseLSN(idx.ArchivedUntilLSN); err != nil {
			return fmt.Errorf("archivedUntilLsn: %w", err)
		}
	}
	if idx.Encrypted {
		switch {
		case idx.ChunkSize < MinChunkSize || idx.ChunkSize > MaxChunkSize:
			return fmt.Errorf("chunkSize %d is outside %d..%d", idx.ChunkSize, MinChunkSize, MaxChunkSize)
		case idx.Seal == "":
			return errors.New("the index is encrypted but has no seal")
		}
	} else if idx.ChunkSize != 0 || idx.Seal != "" {
		return errors.New("the index is not encrypted, but chunkSize or seal is set")
	}
	wals := make(map[string]bool, len(idx.Files))
	files := make(map[string]bool, len(idx.Files))
	maxSeg := uint64(0)
	for i, f := range idx.Files {
		_, segno, isSeg := parseWALSegment(f.WAL, idx.SegmentSize)
		switch {
		case !isSeg && !isHistoryName(f.WAL):
			return fmt.Errorf("files[%d]: wal %q is neither a segment nor a timeline history", i, f.WAL)
		case wals[f.WAL]:
			return fmt.Errorf("files[%d]: wal %s appears twice", i, f.WAL)
		case !validFileName(f.Name) || f.Name == pgWALIndexName || !strings.HasPrefix(f.Name, f.WAL):
			return fmt.Errorf("files[%d]: name %q is not a file name for %s", i, f.Name, f.WAL)
		case files[f.Name]:
			return fmt.Errorf("files[%d]: name %s appears twice", i, f.Name)
		case f.Partial && !isSeg:
			return fmt.Errorf("files[%d] (%s): only a segment can be partial", i, f.Name)
		case f.Size < 0 || f.PlainSize < 0:
			return fmt.Errorf("files[%d] (%s): a size is negative", i, f.Name)
		case isSeg && !f.Partial && f.PlainSize != idx.SegmentSize:
			return fmt.Errorf("files[%d] (%s): a complete segment of %d bytes, want %d", i, f.Name, f.PlainSize, idx.SegmentSize)
		case isSeg && f.PlainSize > idx.SegmentSize:
			return fmt.Errorf("files[%d] (%s): %d bytes, more than a segment (%d)", i, f.Name, f.PlainSize, idx.SegmentSize)
		case !isSeg && f.PlainSize > pgMaxHistory:
			return fmt.Errorf("files[%d] (%s): %d bytes, more than a history file can be (%d)", i, f.Name, f.PlainSize, pgMaxHistory)
		case !validSHA256(f.SHA256) || !validSHA256(f.PlainSHA256):
			return fmt.Errorf("files[%d] (%s): a checksum is not 64 lowercase hex digits", i, f.Name)
		case !idx.Encrypted && (f.Size != f.PlainSize || f.SHA256 != f.PlainSHA256):
			return fmt.Errorf("files[%d] (%s): the archive is not encrypted, but the plain size or checksum differs from the stored one", i, f.Name)
		}
		if isSeg && segno > maxSeg {
			maxSeg = segno
		}
		wals[f.WAL] = true
		files[f.Name] = true
	}
	for i, f := range idx.Files {
		if _, segno, _ := parseWALSegment(f.WAL, idx.SegmentSize); f.Partial && segno != maxSeg {
			return fmt.Errorf("files[%d] (%s): a partial segment that is not the last", i, f.Name)
		}
	}
	return nil
}

// readPGWALIndex reads and parses <dir>/wal/index.json.
func readPGWALIndex(dir string) (*pgWALIndex, error) {
	data, err := readLimited(filepath.Join(dir, pgWALDir, pgWALIndexName), MaxPGWALIndexSize)
	if err != nil {
		return nil, err
	}
	return parsePGWALIndex(data)
}

// write seals idx (with ring, when encrypted) and writes it atomically.
func (idx *pgWALIndex) write(dir string, ring *crypto.Keyring) error {
	sort.Slice(idx.Files, func(i, j int) bool { return idx.Files[i].WAL < idx.Files[j].WAL })
	if idx.Encrypted {
		if err := idx.seal(ring); err != nil {
			return err
		}
	}
	if err := idx.validate(); err != nil {
		return fmt.Errorf("the new WAL index is invalid: %w", err)
	}
	data, err := json.MarshalIndent(idx, "", "  ")
	if err != nil {
		return err
	}
	return replaceFile(filepath.Join(dir, pgWALDir), pgWALIndexName, append(data, '\n'))
}

// find returns the index of idx's entry for WAL file wal, or -1.
func (idx *pgWALIndex) find(wal string) int {
	for i, f := range idx.Files {
		if f.WAL == wal {
			return i
		}
	}
	return -1
}

// segments returns the archive's segment numbers, each with the entry of
// its highest timeline.
func (idx *pgWALIndex) segments() map[uint64]pgWALFile {
	segs := map[uint64]pgWALFile{}
	tlis := map[uint64]uint32{}
	for _, f := range idx.Files {
		tli, segno, ok := parseWALSegment(f.WAL, idx.SegmentSize)
		if !ok {
			continue
		}
		if old, seen := tlis[segno]; !seen || tli > old {
			segs[segno], tlis[segno] = f, tli
		}
	}
	return segs
}

// gap returns the first segment number from first through last that the
// archive lacks, and whether there is one.
func (idx *pgWALIndex) gap(first, last uint64) (uint64, bool) {
	segs := idx.segments()
	for n := first; n <= last; n++ {
		if _, ok := segs[n]; !ok {
			return n, true
		}
	}
	return 0, false
}

// lastSegment is the highest segment number archived, and whether any is.
func (idx *pgWALIndex) lastSegment() (uint64, bool) {
	var last uint64
	found := false
	for n := range idx.segments() {
		if !found || n > last {
			last, found = n, true
		}
	}
	return last, found
}

// parseLSN parses "16/B374D848".
func parseLSN(s string) (uint64, error) {
	hi, lo, ok := strings.Cut(s, "/")
	if !ok || hi == "" || lo == "" || len(hi) > 8 || len(lo) > 8 {
		return 0, fmt.Errorf("%q is not an LSN", s)
	}
	h, err1 := strconv.ParseUint(hi, 16, 32)
	l, err2 := strconv.ParseUint(lo, 16, 32)
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("%q is not an LSN", s)
	}
	return h<<32 | l, nil
}

func formatLSN(lsn uint64) string { return fmt.Sprintf("%X/%X", lsn>>32, lsn&0xFFFFFFFF) }

// walSegmentName is the file name of segment segno on timeline tli.
func walSegmentName(tli uint32, segno uint64, segSize int64) string {
	perID := uint64(0x100000000) / uint64(segSize)
	return fmt.Sprintf("%08X%08X%08X", tli, segno/perID, segno%perID)
}

// parseWALSegment parses a segment file name (24 uppercase hex digits).
func parseWALSegment(name string, segSize int64) (tli uint32, segno uint64, ok bool) {
	if len(name) != 24 || !isUpperHex(name) || segSize <= 0 {
		return 0, 0, false
	}
	t, _ := strconv.ParseUint(name[:8], 16, 32)
	log, _ := strconv.ParseUint(name[8:16], 16, 32)
	seg, _ := strconv.ParseUint(name[16:], 16, 32)
	perID := uint64(0x100000000) / uint64(segSize)
	if seg >= perID || t == 0 {
		return 0, 0, false
	}
	return uint32(t), log*perID + seg, true
}

// isHistoryName reports a timeline history file name: 00000002.history.
func isHistoryName(name string) bool {
	return len(name) == 16 && strings.HasSuffix(name, ".history") && isUpperHex(name[:8])
}

func isUpperHex(s string) bool {
	for _, c := range []byte(s) {
		if !(c >= '0' && c <= '9' || c >= 'A' && c <= 'F') {
			return false
		}
	}
	return s != ""
}
