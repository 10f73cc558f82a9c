package backup

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"github.com/covetpy/covet/backend/security/crypto"
)

// The encrypted file format is described in the package documentation
// (doc.go, "Encryption").

const (
	// DefaultChunkSize is the plaintext bytes per sealed chunk.
	DefaultChunkSize = 1 << 20
	// MinChunkSize and MaxChunkSize bound Config.ChunkSize.
	MinChunkSize = 512
	MaxChunkSize = 16 << 20

	chunkMagic = "COVETBK1"
	// sealOverhead is the most a seal adds: header (3), key id, 24-byte
	// nonce, 16-byte tag.
	sealOverhead = 3 + crypto.MaxKeyIDLen + 24 + 16
	lastChunk    = 1
)

func chunkAD(id, name string, index uint64, last bool) []byte {
	ad := make([]byte, 0, 32+len(id)+len(name)+9)
	ad = append(ad, "covet-backup-chunk-v1\x00"...)
	ad = append(ad, id...)
	ad = append(ad, 0)
	ad = append(ad, name...)
	ad = append(ad, 0)
	ad = binary.BigEndian.AppendUint64(ad, index)
	if last {
		return append(ad, 1)
	}
	return append(ad, 0)
}

// encryptStream seals src into dst in chunks of chunkSize and returns the id
// of the key that sealed the first chunk.
func encryptStream(ctx context.Context, ring *crypto.Keyring, dst io.Writer, src io.Reader, id, name string, chunkSize int) (keyID string, err error) {
	if _, err := io.WriteString(dst, chunkMagic); err != nil {
		return "", err
	}
	cur, next := make([]byte, chunkSize), make([]byte, chunkSize)
	n, rerr := io.ReadFull(src, cur)
	var frame [5]byte
	for index := uint64(0); ; index++ {
		if err := ctx.Err(); err != nil {
			return "", err
		}
		// Read one chunk ahead to know whether this one is the last.
		last, m := false, 0
		switch rerr {
		case io.EOF, io.ErrUnexpectedEOF:
			last = true
		case nil:
			m, rerr = io.ReadFull(src, next)
			if rerr == io.EOF {
				last = true
			} else if rerr != nil && rerr != io.ErrUnexpectedEOF {
				return "", rerr
			}
		default:
			return "", rerr
		}
		sealed, err := ring.Seal(cur[:n], chunkAD(id, name, index, last))
		if err != nil {
			return "", fmt.Errorf("sealing chunk %d: %w", index, err)
		}
		if index == 0 {
			keyID = string(sealed[3 : 3+int(sealed[2])]) // version, algorithm, id length, id
		}
		frame[0] = 0
		if last {
			frame[0] = lastChunk
		}
		binary.BigEndian.PutUint32(frame[1:], uint32(len(sealed)))
		if _, err := dst.Write(frame[:]); err != nil {
			return "", err
		}
		if _, err := dst.Write(sealed); err != nil {
			return "", err
		}
		if last {
			return keyID, nil
		}
		cur, next, n = next, cur, m
	}
}

// decryptStream opens the chunks of src into dst, refusing any chunk that is
// not authentic, out of place or too large, a stream without its last chunk
// and data after it.
func decryptStream(ctx context.Context, ring *crypto.Keyring, dst io.Writer, src io.Reader, id, name string, chunkSize int) error {
	magic := make([]byte, len(chunkMagic))
	if _, err := io.ReadFull(src, magic); err != nil || string(magic) != chunkMagic {
		return errors.New("the file does not start with the encrypted backup header")
	}
	buf := make([]byte, chunkSize+sealOverhead)
	var frame [5]byte
	for index := uint64(0); ; index++ {
		if err := ctx.Err(); err != nil {
			return err
		}
		if _, err := io.ReadFull(src, frame[:]); err != nil {
			if err == io.EOF || err == io.ErrUnexpectedEOF {
				return fmt.Errorf("the file ends after %d chunks without its last chunk (truncated)", index)
			}
			return err
		}
		if frame[0]&^lastChunk != 0 {
			return fmt.Errorf("chunk %d: unknown flags %#x", index, frame[0])
		}
		last := frame[0] == lastChunk
		size := binary.BigEndian.Uint32(frame[1:])
		if uint64(size) > uint64(len(buf)) {
			return fmt.Errorf("chunk %d: %d bytes is more than a chunk of %d can be", index, size, chunkSize)
		}
		if _, err := io.ReadFull(src, buf[:size]); err != nil {
			if err == io.EOF || err == io.ErrUnexpectedEOF {
				return fmt.Errorf("chunk %d: the file ends inside it (truncated)", index)
			}
			return err
		}
		plain, err := ring.Open(buf[:size], chunkAD(id, name, index, last))
		switch {
		case errors.Is(err, crypto.ErrUnknownKey):
			return fmt.Errorf("chunk %d: %w", index, err)
		case err != nil:
			return fmt.Errorf("chunk %d: authentication failed: the data was changed, reordered, cut or moved from another backup, or the key is not the one that encrypted it: %w", index, err)
		case !last && len(plain) != chunkSize:
			return fmt.Errorf("chunk %d: %d bytes, want %d", index, len(plain), chunkSize)
		}
		if _, err := dst.Write(plain); err != nil {
			return err
		}
		if last {
			switch _, err := io.ReadFull(src, buf[:1]); err {
			case io.EOF:
				return nil
			case nil:
				return fmt.Errorf("data after the last chunk (%d)", index)
			default:
				return err
			}
		}
	}
}
