package backup

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"
)

// A base backup's archive is its wal/ folder: segments numbered from 1,
// each holding the transactions one sync of the archiver found, and
// head.json, rewritten atomically after each segment, naming the newest
// segment with the checksum of its stored bytes. Each segment starts with
// the checksum of the one before, so the chain from head.json back to
// segment 1 proves that none was changed, dropped or reordered.
//
//	segment = magic seq pageSize prev tx* end
//	magic   = "COVETWS1"                 (8 bytes)
//	seq     = 8 bytes, big endian, from 1
//	pageSize= 4 bytes
//	prev    = 32 bytes: SHA-256 of the previous segment's stored bytes
//	          (zeros for segment 1)
//	tx      = 'T' commitUnixNano(8) dbPages(4) nPages(4) (pgno(4) page)*
//	end     = 'E' count(4): the number of transactions
//
// With a keyring, a segment is stored encrypted in chunks like any backup
// file (file name "<seq>.seg.enc", the base's ID in the associated data).
const (
	segmentMagic  = "COVETWS1"
	walDir        = "wal"
	headName      = "head.json"
	headFormat    = 1
	maxHeadSize   = 64 << 10
	segmentPrefix = 16 // digits of a segment's number in its name
)

// segmentName is the file name of segment seq.
func segmentName(seq uint64, encrypted bool) string {
	name := fmt.Sprintf("%0*d.seg", segmentPrefix, seq)
	if encrypted {
		name += ".enc"
	}
	return name
}

// archiveHead is wal/head.json.
type archiveHead struct {
	Format int    `json:"format"`
	Base   string `json:"base"`
	// Seq is the newest segment (0: none yet) and SHA256 the checksum of
	// its stored bytes.
	Seq    uint64 `json:"seq"`
	SHA256 string `json:"sha256,omitempty"`
	// Commits counts the archived transactions; LastCommit is the newest's
	// time.
	Commits    int64      `json:"commits"`
	LastCommit *time.Time `json:"lastCommit,omitempty"`
	// SyncedAt is when the archiver last had every committed transaction
	// archived: the archive restores any moment up to it.
	SyncedAt time.Time `json:"syncedAt"`
	// Closed reports that the archiver stopped (the server shut down, or a
	// newer base took over): nothing will be added.
	Closed bool `json:"closed,omitempty"`
}

func readHead(dir string) (*archiveHead, error) {
	data, err := readLimited(filepath.Join(dir, walDir, headName), maxHeadSize)
	if err != nil {
		return nil, err
	}
	if len(data) > maxHeadSize {
		return nil, fmt.Errorf("%s is more than %d bytes", headName, maxHeadSize)
	}
	var h archiveHead
	if err := decodeStrict(data, &h); err != nil {
		return nil, fmt.Errorf("parsing %s: %w", headName, err)
	}
	switch {
	case h.Format != headFormat:
		return nil, fmt.Errorf("%s: format %d is not %d", headName, h.Format, headFormat)
	case h.Seq > 0 && !validSHA256(h.SHA256):
		return nil, fmt.Errorf("%s: sha256 %q is not 64 lowercase hex digits", headName, h.SHA256)
	}
	return &h, nil
}

// writeHead writes wal/head.json atomically.
func writeHead(dir string, h *archiveHead) error {
	data, err := json.MarshalIndent(h, "", "  ")
	if err != nil {
		return err
	}
	return replaceFile(filepath.Join(dir, walDir), headName, append(data, '\n'))
}

// replaceFile writes dir/name through a synced temporary file renamed
// into place, and syncs dir.
func replaceFile(dir, name string, data []byte) error {
	tmp, err := os.CreateTemp(dir, "."+name+"-*.tmp")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // fails harmlessly after the rename
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), filepath.Join(dir, name)); err != nil {
		return err
	}
	return syncDir(dir)
}

// segmentWriter writes one segment's plaintext.
type segmentWriter struct {
	w        *bufio.Writer
	pageSize int
	count    uint32
	err      error
}

func newSegmentWriter(w io.Writer, seq uint64, pageSize int, prev [32]byte) *segmentWriter {
	s := &segmentWriter{w: bufio.NewWriterSize(w, 1<<20), pageSize: pageSize}
	var b [20]byte
	binary.BigEndian.PutUint64(b[0:], seq)
	binary.BigEndian.PutUint32(b[8:], uint32(pageSize))
	s.write([]byte(segmentMagic), b[:12], prev[:])
	return s
}

func (s *segmentWriter) write(parts ...[]byte) {
	for _, p := range parts {
		if s.err == nil {
			_, s.err = s.w.Write(p)
		}
	}
}

func (s *segmentWriter) tx(at time.Time, dbPages uint32, pages []walPage) {
	var b [17]byte
	b[0] = 'T'
	binary.BigEndian.PutUint64(b[1:], uint64(at.UnixNano()))
	binary.BigEndian.PutUint32(b[9:], dbPages)
	binary.BigEndian.PutUint32(b[13:], uint32(len(pages)))
	s.write(b[:])
	for _, p := range pages {
		var n [4]byte
		binary.BigEndian.PutUint32(n[:], p.pgno)
		s.write(n[:], p.data)
	}
	s.count++
}

func (s *segmentWriter) close() error {
	var b [5]byte
	b[0] = 'E'
	binary.BigEndian.PutUint32(b[1:], s.count)
	s.write(b[:])
	if s.err == nil {
		s.err = s.w.Flush()
	}
	return s.err
}

// segmentTx is a transaction read back from a segment.
type segmentTx struct {
	at      time.Time
	dbPages uint32
	pages   []walPage
}

// readSegment parses a segment's plaintext, checking its number, page size
// and link to the previous segment, and calls fn for each transaction.
func readSegment(r io.Reader, seq uint64, pageSize int, prev [32]byte, fn func(segmentTx) error) error {
	br := bufio.NewReaderSize(r, 1<<20)
	head := make([]byte, len(segmentMagic)+12+32)
	if _, err := io.ReadFull(br, head); err != nil {
		return fmt.Errorf("reading the segment's header: %w", err)
	}
	switch {
	case string(head[:8]) != segmentMagic:
		return errors.New("not a segment (bad magic)")
	case binary.BigEndian.Uint64(head[8:]) != seq:
		return fmt.Errorf("the segment says it is number %d, not %d", binary.BigEndian.Uint64(head[8:]), seq)
	case int(binary.BigEndian.Uint32(head[16:])) != pageSize:
		return fmt.Errorf("the segment's page size %d is not the database's %d", binary.BigEndian.Uint32(head[16:]), pageSize)
	case !bytes.Equal(head[20:], prev[:]):
		return fmt.Errorf("the segment does not follow segment %d: it names a previous segment with SHA-256 %s", seq-1, hex.EncodeToString(head[20:]))
	}
	var count uint32
	for {
		tag, err := br.ReadByte()
		if err != nil {
			return fmt.Errorf("the segment ends after %d transactions without its end mark", count)
		}
		if tag == 'E' {
			var b [4]byte
			if _, err := io.ReadFull(br, b[:]); err != nil {
				return errors.New("the segment's end mark is cut short")
			}
			if n := binary.BigEndian.Uint32(b[:]); n != count {
				return fmt.Errorf("the segment's end mark counts %d transactions, it holds %d", n, count)
			}
			if _, err := br.ReadByte(); err != io.EOF {
				return errors.New("data after the segment's end mark")
			}
			return nil
		}
		if tag != 'T' {
			return fmt.Errorf("transaction %d: bad tag %q", count+1, tag)
		}
		var b [16]byte
		if _, err := io.ReadFull(br, b[:]); err != nil {
			return fmt.Errorf("transaction %d is cut short", count+1)
		}
		tx := segmentTx{at: time.Unix(0, int64(binary.BigEndian.Uint64(b[0:]))).UTC(), dbPages: binary.BigEndian.Uint32(b[8:])}
		n := binary.BigEndian.Uint32(b[12:])
		if n == 0 || int64(n) > maxTxBytes/int64(pageSize) {
			return fmt.Errorf("transaction %d has %d pages", count+1, n)
		}
		for range n {
			p := walPage{data: make([]byte, pageSize)}
			var pg [4]byte
			if _, err := io.ReadFull(br, pg[:]); err != nil {
				return fmt.Errorf("transaction %d is cut short", count+1)
			}
			if _, err := io.ReadFull(br, p.data); err != nil {
				return fmt.Errorf("transaction %d is cut short", count+1)
			}
			p.pgno = binary.BigEndian.Uint32(pg[:])
			tx.pages = append(tx.pages, p)
		}
		count++
		if err := fn(tx); err != nil {
			return err
		}
	}
}

// openSegment opens segment seq of base m for reading its plaintext, and
// returns the SHA-256 of its stored bytes once read (through the returned
// function, after the reader is drained).
func (s *Store) openSegment(ctx context.Context, m *Manifest, seq uint64) (io.ReadCloser, func() [32]byte, error) {
	name := segmentName(seq, m.Encrypted)
	f, err := os.Open(filepath.Join(s.dir, m.ID, walDir, name))
	if err != nil {
		return nil, nil, err
	}
	h := sha256.New()
	stored := io.TeeReader(ctxReader{ctx, f}, h)
	sum := func() [32]byte { var b [32]byte; h.Sum(b[:0]); return b }
	if !m.Encrypted {
		return readCloser{stored, f}, sum, nil
	}
	if s.keyring == nil {
		f.Close()
		return nil, nil, errors.New("the archive is encrypted and the store has no keyring")
	}
	pr, pw := io.Pipe()
	go func() {
		pw.CloseWithError(decryptStream(ctx, s.keyring, pw, stored, m.ID, name, m.ChunkSize))
	}()
	return readCloser{pr, closerFunc(func() error { pr.Close(); return f.Close() })}, sum, nil
}

type readCloser struct {
	io.Reader
	io.Closer
}

type closerFunc func() error

func (f closerFunc) Close() error { return f() }

// replayArchive applies base m's archive to dest, the base's database
// restored: every segment is read and checked (its authenticity when
// encrypted, its number, its link to the one before, and the newest
// against head.json), and its transactions made at or before to (all
// without to) are written into dest. It returns what it did, in words.
func (s *Store) replayArchive(ctx context.Context, m *Manifest, dest string, to *time.Time) (string, error) {
	head, err := readHead(filepath.Join(s.dir, m.ID))
	if err != nil {
		return "", err
	}
	if head.Base != m.ID {
		return "", fmt.Errorf("%s names base %s, not %s", headName, head.Base, m.ID)
	}
	if to != nil && to.After(head.SyncedAt) {
		return "", fmt.Errorf("the archive reaches %s, not %s", head.SyncedAt.Format(time.RFC3339Nano), to.UTC().Format(time.RFC3339Nano))
	}
	f, err := os.OpenFile(dest, os.O_RDWR, 0)
	if err != nil {
		return "", err
	}
	defer f.Close()
	var hdr [100]byte
	if _, err := f.ReadAt(hdr[:], 0); err != nil {
		return "", fmt.Errorf("reading the restored database's header: %w", err)
	}
	pageSize := int(binary.BigEndian.Uint16(hdr[16:]))
	if pageSize == 1 {
		pageSize = maxPageSize
	}
	var prev [32]byte
	var applied, total int64
	var upTo time.Time
	for seq := uint64(1); seq <= head.Seq; seq++ {
		r, sum, err := s.openSegment(ctx, m, seq)
		if err != nil {
			return "", fmt.Errorf("segment %d: %w", seq, err)
		}
		err = readSegment(r, seq, pageSize, prev, func(tx segmentTx) error {
			total++
			if to != nil && tx.at.After(*to) {
				return nil
			}
			applied++
			upTo = tx.at
			return applyTx(f, pageSize, tx.dbPages, tx.pages)
		})
		r.Close()
		if err != nil {
			return "", fmt.Errorf("segment %d (%s): %w", seq, segmentName(seq, m.Encrypted), err)
		}
		prev = sum()
	}
	if head.Seq > 0 && hex.EncodeToString(prev[:]) != head.SHA256 {
		return "", fmt.Errorf("segment %d's SHA-256 is %s, %s says %s", head.Seq, hex.EncodeToString(prev[:]), headName, head.SHA256)
	}
	if total != head.Commits {
		return "", fmt.Errorf("the segments hold %d commits, %s says %d", total, headName, head.Commits)
	}
	if err := f.Sync(); err != nil {
		return "", err
	}
	detail := fmt.Sprintf("%d segment(s) chained to %s, %d of %d commit(s) replayed", head.Seq, headName, applied, total)
	if applied > 0 {
		detail += ", the last made " + upTo.Format(time.RFC3339Nano)
	}
	return detail + "; the archive reaches " + head.SyncedAt.Format(time.RFC3339Nano), nil
}

// ArchiveInfo describes a base backup and how far its archive reaches.
type ArchiveInfo struct {
	Base Manifest `json:"base"`
	// Segments and Commits count what the archive holds.
	Segments uint64 `json:"segments"`
	Commits  int64  `json:"commits"`
	// LastCommit is the newest archived commit's time.
	LastCommit *time.Time `json:"lastCommit,omitempty"`
	// Until is the latest moment the archive restores to: every commit
	// before it is archived. From is the base's time, the earliest.
	From  time.Time `json:"from"`
	Until time.Time `json:"until"`
	// Closed: the archive is complete; otherwise an archiver may still be
	// adding to it.
	Closed bool `json:"closed"`
	// Problem says why the archive cannot be read (Until is then From).
	Problem string `json:"problem,omitempty"`
}

// Archives lists the base backups of dialect with their archives, newest
// first.
func (s *Store) Archives(dialect string) ([]ArchiveInfo, error) {
	list, err := s.List()
	if err != nil {
		return nil, err
	}
	out := []ArchiveInfo{}
	for _, m := range list {
		if m.Kind != KindBase || m.Dialect != dialect {
			continue
		}
		if m.Dialect == DialectPostgres {
			out = append(out, s.pgArchiveInfo(context.Background(), m))
			continue
		}
		a := ArchiveInfo{Base: m, From: m.CreatedAt, Until: m.CreatedAt}
		if h, err := readHead(filepath.Join(s.dir, m.ID)); err != nil {
			a.Problem = err.Error()
		} else {
			a.Segments, a.Commits, a.LastCommit, a.Closed = h.Seq, h.Commits, h.LastCommit, h.Closed
			if h.SyncedAt.After(a.Until) {
				a.Until = h.SyncedAt
			}
		}
		out = append(out, a)
	}
	return out, nil
}

// archiveFor picks the archive that restores dialect's database to the
// moment to: the newest base made at or before it, whose archive must
// reach it.
func (s *Store) archiveFor(dialect string, to time.Time) (*ArchiveInfo, error) {
	list, err := s.Archives(dialect)
	if err != nil {
		return nil, err
	}
	if len(list) == 0 {
		return nil, fmt.Errorf("%w: the store has no %s base backup, so no point in time can be restored", ErrNotRestorable, dialect)
	}
	for i := range list {
		a := &list[i]
		if a.From.After(to) {
			continue
		}
		if a.Problem != "" {
			return nil, fmt.Errorf("%w: base %s, the newest before that moment, has a damaged archive: %s", ErrNotRestorable, a.Base.ID, a.Problem)
		}
		if a.Until.Before(to) {
			return nil, fmt.Errorf("%w: base %s, the newest before that moment, has an archive that reaches only %s", ErrNotRestorable, a.Base.ID, a.Until.Format(time.RFC3339Nano))
		}
		return a, nil
	}
	oldest := list[len(list)-1]
	return nil, fmt.Errorf("%w: the oldest base backup, %s, was made %s: nothing earlier can be restored", ErrNotRestorable, oldest.Base.ID, oldest.From.Format(time.RFC3339Nano))
}
