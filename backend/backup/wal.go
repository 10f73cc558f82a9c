package backup

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
)

// SQLite's write-ahead log, as far as archiving needs it (see "WAL-mode
// file format" in SQLite's documentation): a 32-byte header, then frames
// of a 24-byte header and one page each. A frame whose header has a
// non-zero database size ends a transaction (a commit frame). Every header
// field is big-endian; frames carry the header's salts and a running
// checksum over everything before them, so a frame left over from an
// earlier cycle of the file, or torn, ends the valid log.
const (
	walHeaderSize      = 32
	walFrameHeaderSize = 24
	walMagic           = 0x377f0682 // | 1: checksums of big-endian words
	walVersion         = 3007000
	maxPageSize        = 65536
)

// walHeader is a WAL file's header.
type walHeader struct {
	bigEndian bool // checksums read big-endian words
	pageSize  int
	salt      [8]byte // the two salts, as stored
	cksum     [2]uint32
}

// readWALHeader reads the header of the WAL in f. ok is false when the file
// has no valid header (missing, short, or not yet written).
func readWALHeader(f io.ReaderAt) (h walHeader, ok bool, err error) {
	var b [walHeaderSize]byte
	if _, err := f.ReadAt(b[:], 0); err != nil {
		if errors.Is(err, io.EOF) {
			return h, false, nil
		}
		return h, false, err
	}
	magic := binary.BigEndian.Uint32(b[0:])
	if magic&^1 != walMagic || binary.BigEndian.Uint32(b[4:]) != walVersion {
		return h, false, nil
	}
	h.bigEndian = magic&1 == 1
	h.pageSize = int(binary.BigEndian.Uint32(b[8:]))
	if h.pageSize == 1 {
		h.pageSize = maxPageSize
	}
	copy(h.salt[:], b[16:24])
	h.cksum = walChecksum(h.bigEndian, [2]uint32{}, b[:24])
	if h.cksum != [2]uint32{binary.BigEndian.Uint32(b[24:]), binary.BigEndian.Uint32(b[28:])} {
		return h, false, nil
	}
	if h.pageSize < 512 || h.pageSize > maxPageSize || h.pageSize&(h.pageSize-1) != 0 {
		return h, false, fmt.Errorf("the WAL header names page size %d", h.pageSize)
	}
	return h, true, nil
}

// walChecksum continues SQLite's WAL checksum s over b (a multiple of 8
// bytes long).
func walChecksum(bigEndian bool, s [2]uint32, b []byte) [2]uint32 {
	order := binary.ByteOrder(binary.LittleEndian)
	if bigEndian {
		order = binary.BigEndian
	}
	for i := 0; i+8 <= len(b); i += 8 {
		s[0] += order.Uint32(b[i:]) + s[1]
		s[1] += order.Uint32(b[i+4:]) + s[0]
	}
	return s
}

// walPos is a position in a WAL: the cycle (its salts), the number of
// frames before it, and the running checksum there.
type walPos struct {
	salt   [8]byte
	frames uint32
	cksum  [2]uint32
}

// walTx is one committed transaction read from a WAL.
type walTx struct {
	commitFrame uint32 // index of its commit frame, from 1
	dbPages     uint32 // the database's size in pages after it
	pages       []walPage
}

type walPage struct {
	pgno uint32
	data []byte
}

// readWALTxs reads the WAL in f (header h) from position at and calls fn
// for each committed transaction in order. It stops at the end of the
// valid log: a frame of another cycle, a bad checksum, a short frame, or
// the frames of a transaction not committed (yet). It returns the position
// after the last transaction passed to fn. maxTxBytes bounds the pages of
// one transaction held in memory.
func readWALTxs(f io.ReaderAt, h walHeader, at walPos, maxTxBytes int64, fn func(walTx) error) (walPos, error) {
	frameSize := int64(walFrameHeaderSize + h.pageSize)
	off := walHeaderSize + int64(at.frames)*frameSize
	r := bufio.NewReaderSize(io.NewSectionReader(f, off, 1<<62), 1<<20)
	pos, cur := at, at
	var tx walTx
	var held int64
	hdr := make([]byte, walFrameHeaderSize)
	for {
		if _, err := io.ReadFull(r, hdr); err != nil {
			if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
				return pos, nil
			}
			return pos, err
		}
		page := make([]byte, h.pageSize)
		if _, err := io.ReadFull(r, page); err != nil {
			if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
				return pos, nil
			}
			return pos, err
		}
		if !bytes.Equal(hdr[8:16], h.salt[:]) {
			return pos, nil
		}
		ck := walChecksum(h.bigEndian, cur.cksum, hdr[:8])
		ck = walChecksum(h.bigEndian, ck, page)
		if ck != [2]uint32{binary.BigEndian.Uint32(hdr[16:]), binary.BigEndian.Uint32(hdr[20:])} {
			return pos, nil
		}
		cur.frames++
		cur.cksum = ck
		pgno := binary.BigEndian.Uint32(hdr[0:])
		if held += int64(h.pageSize); held > maxTxBytes {
			return pos, fmt.Errorf("a transaction in the WAL writes more than %d bytes of pages, the archiver's limit", maxTxBytes)
		}
		tx.pages = append(tx.pages, walPage{pgno: pgno, data: page})
		if size := binary.BigEndian.Uint32(hdr[4:]); size != 0 {
			tx.commitFrame, tx.dbPages = cur.frames, size
			if err := fn(tx); err != nil {
				return pos, err
			}
			pos, tx, held = cur, walTx{}, 0
		}
	}
}

// applyTx writes tx's pages into the database file f and sets its size.
func applyTx(f *os.File, pageSize int, dbPages uint32, pages []walPage) error {
	for _, p := range pages {
		if p.pgno == 0 || len(p.data) != pageSize {
			return fmt.Errorf("a frame for page %d has %d bytes, want %d", p.pgno, len(p.data), pageSize)
		}
		if _, err := f.WriteAt(p.data, int64(p.pgno-1)*int64(pageSize)); err != nil {
			return err
		}
	}
	return f.Truncate(int64(dbPages) * int64(pageSize))
}

// readWALIndex reads the WAL's cycle and committed frame count from the
// wal-index header at the start of the -shm file, which SQLite keeps in two
// copies written one after the other; they agree unless a writer is
// between the two, so a reader tries again. ok is false when no consistent
// header was read.
func readWALIndex(shm io.ReaderAt) (salt [8]byte, frames uint32, ok bool) {
	var b [96]byte
	for range 3 {
		if _, err := shm.ReadAt(b[:], 0); err != nil {
			return salt, 0, false
		}
		if bytes.Equal(b[:48], b[48:]) && b[12] == 1 { // isInit
			copy(salt[:], b[32:40])
			return salt, binary.NativeEndian.Uint32(b[16:]), true
		}
	}
	return salt, 0, false
}
