package middleware

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
)

// CompressLevel trades compression speed for size, for every encoding.
type CompressLevel int

// The levels, from the zero value up. Each names a gzip level and a zstd
// encoder level.
const (
	CompressLevelDefault CompressLevel = iota // gzip 5 (klauspost default), zstd SpeedDefault
	CompressLevelFastest                      // gzip 1, zstd SpeedFastest
	CompressLevelBetter                       // gzip 7, zstd SpeedBetterCompression
	CompressLevelBest                         // gzip 9, zstd SpeedBestCompression
)

const (
	// defaultCompressMinSize is CompressConfig.MinSize when it is zero.
	defaultCompressMinSize = 1024
	// maxCompressMinSize bounds CompressConfig.MinSize: that many bytes of
	// every candidate response are held in memory.
	maxCompressMinSize = 1 << 20
	// compressSniffLen is how much of a body http.DetectContentType looks at.
	compressSniffLen = 512
	// zstdWindow is the zstd window size: RFC 9659 caps it at 8 MiB for
	// HTTP; a smaller window keeps each pooled encoder small.
	zstdWindow = 128 << 10
	// compressMaxPooledBuf is the largest held-back buffer kept for reuse.
	compressMaxPooledBuf = 64 << 10
)

// CompressConfig says what Compress compresses and how hard it tries.
type CompressConfig struct {
	// MinSize is the smallest body, in bytes, worth compressing; smaller
	// bodies are sent as they are. Zero means 1024; 1 compresses every
	// non-empty body. At most 1 MiB: that much of each response is held
	// in memory until the decision is made.
	MinSize int
	// ContentTypes lists the media types to compress, each either exact
	// ("application/json") or a whole top-level type ("text/*"); case and
	// parameters of the response's Content-Type are ignored. Empty means
	// text/*, application/json, application/problem+json,
	// application/ld+json, application/geo+json, application/x-ndjson,
	// application/manifest+json, application/javascript,
	// application/xml, application/xhtml+xml, application/rss+xml,
	// application/atom+xml, application/wasm, image/svg+xml and
	// image/x-icon.
	ContentTypes []string
	// Level trades speed for size; the zero value is CompressLevelDefault.
	Level CompressLevel
}

// Validate reports the first problem with c, naming the field.
func (c CompressConfig) Validate() error {
	switch {
	case c.MinSize < 0:
		return fmt.Errorf("validating compress config: minSize: %d is negative", c.MinSize)
	case c.MinSize > maxCompressMinSize:
		return fmt.Errorf("validating compress config: minSize: %d is more than %d", c.MinSize, maxCompressMinSize)
	case c.Level < CompressLevelDefault || c.Level > CompressLevelBest:
		return fmt.Errorf("validating compress config: level: %d is not a CompressLevel (%d to %d)", c.Level, CompressLevelDefault, CompressLevelBest)
	}
	for i, ct := range c.ContentTypes {
		typ, sub, ok := strings.Cut(ct, "/")
		if !ok || !isMediaTypeToken(typ) || !isMediaTypeToken(sub) || typ == "*" && sub != "*" {
			return fmt.Errorf("validating compress config: contentTypes[%d]: %q is not a media type such as \"application/json\" or \"text/*\" (without parameters)", i, ct)
		}
	}
	return nil
}

// defaultCompressTypes returns the media types compressed when
// CompressConfig.ContentTypes is empty.
func defaultCompressTypes() []string {
	return []string{
		"text/*",
		"application/json", "application/problem+json", "application/ld+json",
		"application/geo+json", "application/x-ndjson", "application/manifest+json",
		"application/javascript",
		"application/xml", "application/xhtml+xml", "application/rss+xml", "application/atom+xml",
		"application/wasm",
		"image/svg+xml", "image/x-icon",
	}
}

// isMediaTypeToken reports whether s is a non-empty RFC 9110 token.
func isMediaTypeToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
			strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0 {
			continue
		}
		return false
	}
	return true
}

// Compress returns middleware that compresses responses with zstd or gzip,
// whichever the request's Accept-Encoding prefers (zstd when they tie; a
// q-value of 0 refuses a coding, and an identity coding the client
// prefers wins). It panics if cfg is invalid (programmer misuse; validate
// configuration from outside first).
//
// The start of each response is held back until MinSize bytes are written,
// the handler flushes or the handler returns. The response passes through
// unchanged when it is smaller than MinSize, its media type is not in
// ContentTypes, it already has a Content-Encoding, its status is 1xx, 204,
// 205, 206 or 304, it says Cache-Control: no-transform, or the request is
// HEAD. A compressible media type always gets Vary: Accept-Encoding, even
// when the body is not compressed. A compressed response loses
// Content-Length and Accept-Ranges (ranges of the identity body would not
// match it), gets Content-Encoding, and has a strong ETag weakened (W/).
//
// Flush (directly or through http.ResponseController) ends the holding
// back: a compressible response is compressed from then on whatever its
// size, and each Flush pushes the encoder's output to the client, so
// streams such as text/event-stream work. When the client refuses identity
// (identity;q=0), MinSize does not apply.
func Compress(cfg CompressConfig) func(http.Handler) http.Handler {
	c, err := newCompressor(cfg)
	if err != nil {
		panic("middleware: " + err.Error())
	}
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			coding, identityRefused := negotiateEncoding(r.Header["Accept-Encoding"])
			if r.Method == http.MethodHead {
				coding = ""
			}
			minSize := c.minSize
			if identityRefused && coding != "" {
				minSize = 1
			}
			cw := c.writers.Get().(*compressWriter)
			cw.comp, cw.w, cw.coding, cw.minSize = c, w, coding, minSize
			next.ServeHTTP(cw, r)
			// A panic skips what follows: the held-back response is
			// dropped, so Recoverer can still answer 500.
			cw.finish()
			c.release(cw)
		})
	}
}

// compressor is one Compress middleware's settings and pools.
type compressor struct {
	minSize   int
	types     map[string]bool // exact media types, lower case
	wildTypes map[string]bool // top-level types given as "type/*", lower case
	anyType   bool            // "*/*" was given
	writers   sync.Pool       // *compressWriter
	gzips     sync.Pool       // *gzip.Writer
	zstds     sync.Pool       // *zstd.Encoder
}

func newCompressor(cfg CompressConfig) (*compressor, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	c := &compressor{minSize: cfg.MinSize, types: map[string]bool{}, wildTypes: map[string]bool{}}
	if c.minSize == 0 {
		c.minSize = defaultCompressMinSize
	}
	types := cfg.ContentTypes
	if len(types) == 0 {
		types = defaultCompressTypes()
	}
	for _, t := range types {
		t = strings.ToLower(t)
		typ, sub, _ := strings.Cut(t, "/")
		switch {
		case typ == "*":
			c.anyType = true
		case sub == "*":
			c.wildTypes[typ] = true
		default:
			c.types[t] = true
		}
	}
	gzipLevel, zstdLevel := gzip.DefaultCompression, zstd.SpeedDefault
	switch cfg.Level {
	case CompressLevelFastest:
		gzipLevel, zstdLevel = gzip.BestSpeed, zstd.SpeedFastest
	case CompressLevelBetter:
		gzipLevel, zstdLevel = 7, zstd.SpeedBetterCompression
	case CompressLevelBest:
		gzipLevel, zstdLevel = gzip.BestCompression, zstd.SpeedBestCompression
	}
	zstdOptions := []zstd.EOption{
		zstd.WithEncoderLevel(zstdLevel),
		zstd.WithEncoderConcurrency(1), // synchronous: no goroutines per response
		zstd.WithWindowSize(zstdWindow),
	}
	// Build one encoder of each kind now, so a bad option shows at setup;
	// the pools' New functions then cannot fail.
	gz, err := gzip.NewWriterLevel(nil, gzipLevel)
	if err != nil {
		return nil, fmt.Errorf("creating gzip encoder: %w", err)
	}
	zs, err := zstd.NewWriter(nil, zstdOptions...)
	if err != nil {
		return nil, fmt.Errorf("creating zstd encoder: %w", err)
	}
	c.writers.New = func() any { return new(compressWriter) }
	c.gzips.New = func() any {
		w, _ := gzip.NewWriterLevel(nil, gzipLevel)
		return w
	}
	c.zstds.New = func() any {
		e, _ := zstd.NewWriter(nil, zstdOptions...)
		return e
	}
	c.gzips.Put(gz)
	c.zstds.Put(zs)
	return c, nil
}

// compressible reports whether the media type of Content-Type value ct is
// one to compress.
func (c *compressor) compressible(ct string) bool {
	mt, _, _ := strings.Cut(ct, ";")
	mt = strings.ToLower(strings.TrimSpace(mt))
	typ, sub, ok := strings.Cut(mt, "/")
	if !ok || typ == "" || sub == "" {
		return false
	}
	return c.anyType || c.wildTypes[typ] || c.types[mt]
}

// encoder returns a pooled encoder for coding writing to w.
func (c *compressor) encoder(coding string, w io.Writer) compressEncoder {
	var e compressEncoder
	if coding == "zstd" {
		e = c.zstds.Get().(*zstd.Encoder)
	} else {
		e = c.gzips.Get().(*gzip.Writer)
	}
	e.Reset(w)
	return e
}

// release returns cw and its encoder to the pools.
func (c *compressor) release(cw *compressWriter) {
	if cw.enc != nil {
		cw.enc.Reset(nil) // drop the reference to the ResponseWriter
		switch e := cw.enc.(type) {
		case *zstd.Encoder:
			c.zstds.Put(e)
		case *gzip.Writer:
			c.gzips.Put(e)
		}
	}
	buf := cw.buf[:0]
	if cap(buf) > compressMaxPooledBuf {
		buf = nil
	}
	*cw = compressWriter{buf: buf}
	c.writers.Put(cw)
}

// compressEncoder is what Compress needs of gzip.Writer and zstd.Encoder.
type compressEncoder interface {
	io.Writer
	Flush() error
	Close() error
	Reset(w io.Writer)
}

var _ compressEncoder = (*gzip.Writer)(nil)

var _ compressEncoder = (*zstd.Encoder)(nil)

// negotiateEncoding picks "zstd", "gzip" or "" (identity) from the values of
// a request's Accept-Encoding header, and reports whether the client
// refuses identity (identity;q=0, or *;q=0 without an identity entry).
// The highest q-value wins, zstd before gzip before identity on a tie;
// identity not listed is acceptable but least preferred. Entries with a
// malformed q-value are ignored; no header means identity.
func negotiateEncoding(values []string) (coding string, identityRefused bool) {
	qZstd, qGzip, qIdentity, qAny := -1.0, -1.0, -1.0, -1.0
	for _, v := range values {
		for v != "" {
			var entry string
			entry, v, _ = strings.Cut(v, ",")
			name, params, _ := strings.Cut(entry, ";")
			name = strings.TrimSpace(name)
			q, ok := acceptQValue(params)
			if !ok {
				continue
			}
			var dst *float64
			switch {
			case strings.EqualFold(name, "zstd"):
				dst = &qZstd
			case strings.EqualFold(name, "gzip"), strings.EqualFold(name, "x-gzip"):
				dst = &qGzip
			case strings.EqualFold(name, "identity"):
				dst = &qIdentity
			case name == "*":
				dst = &qAny
			default:
				continue
			}
			if *dst < 0 { // the first entry for a coding counts
				*dst = q
			}
		}
	}
	orAny := func(q, fallback float64) float64 {
		switch {
		case q >= 0:
			return q
		case qAny >= 0:
			return qAny
		}
		return fallback
	}
	// An unlisted identity is acceptable but least preferred.
	qZstd, qGzip, qIdentity = orAny(qZstd, 0), orAny(qGzip, 0), orAny(qIdentity, -1)
	best, q := "zstd", qZstd
	if qGzip > qZstd {
		best, q = "gzip", qGzip
	}
	if q <= 0 || q < qIdentity {
		best = ""
	}
	return best, qIdentity == 0
}

// acceptQValue returns the weight in an Accept-Encoding entry's parameters
// (";q=0.5"), 1 when there is none, and false when it is malformed.
func acceptQValue(params string) (float64, bool) {
	for params != "" {
		var p string
		p, params, _ = strings.Cut(params, ";")
		k, v, _ := strings.Cut(p, "=")
		if !strings.EqualFold(strings.TrimSpace(k), "q") {
			continue
		}
		q, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
		if err != nil || q < 0 || q > 1 {
			return 0, false
		}
		return q, true
	}
	return 1, true
}

// compressState is where a compressWriter is in its response.
type compressState int

const (
	compressHolding  compressState = iota // undecided: the status and the start of the body are held back
	compressPassing                       // writing through unchanged
	compressActive                        // writing through enc
	compressHijacked                      // the connection was taken over
)

// compressWriter holds back the start of a response until it can decide
// whether to compress it. It passes Flush, Hijack and Unwrap (for
// http.ResponseController) through. It belongs to one request's goroutine.
type compressWriter struct {
	comp    *compressor
	w       http.ResponseWriter
	coding  string // "zstd", "gzip", or "" when the client accepts neither or the request is HEAD
	minSize int    // for this request
	state   compressState
	code    int    // status held back, 0 until WriteHeader or Write
	buf     []byte // start of the body held back
	enc     compressEncoder
}

var _ http.Flusher = (*compressWriter)(nil)

var _ http.Hijacker = (*compressWriter)(nil)

func (cw *compressWriter) Header() http.Header { return cw.w.Header() }

func (cw *compressWriter) WriteHeader(code int) {
	informational := code >= 100 && code < 200 && code != http.StatusSwitchingProtocols
	if cw.state != compressHolding || informational || code < 100 || code > 999 {
		// Decided already, sent at once (1xx), or refused by net/http.
		cw.w.WriteHeader(code)
		return
	}
	if cw.code != 0 {
		return // superfluous
	}
	cw.code = code
	h := cw.w.Header()
	if cw.coding == "" || !compressibleStatus(code) || h.Get("Content-Encoding") != "" || noTransform(h) {
		cw.commit(false)
		return
	}
	if ct, ok := h["Content-Type"]; ok && (len(ct) == 0 || !cw.comp.compressible(ct[0])) {
		cw.commit(false)
		return
	}
	if cl := h.Get("Content-Length"); cl != "" {
		if n, err := strconv.ParseInt(cl, 10, 64); err == nil && n < int64(cw.minSize) {
			cw.commit(false)
		}
	}
}

func (cw *compressWriter) Write(p []byte) (int, error) {
	switch cw.state {
	case compressPassing, compressHijacked:
		return cw.w.Write(p)
	case compressActive:
		return cw.enc.Write(p)
	}
	if cw.code == 0 {
		cw.WriteHeader(http.StatusOK)
		if cw.state != compressHolding {
			return cw.Write(p)
		}
	}
	_, typed := cw.w.Header()["Content-Type"]
	threshold := cw.minSize
	if !typed {
		threshold = max(threshold, compressSniffLen)
	}
	if len(cw.buf)+len(p) < threshold {
		cw.buf = append(cw.buf, p...)
		return len(p), nil
	}
	// Enough to decide. Hold back at most what sniffing needs, and write
	// the rest of p straight after.
	k := 0
	if !typed && len(cw.buf) < compressSniffLen {
		k = min(len(p), compressSniffLen-len(cw.buf))
		cw.buf = append(cw.buf, p[:k]...)
	}
	if err := cw.commit(true); err != nil {
		return 0, err
	}
	n, err := cw.Write(p[k:])
	return k + n, err
}

// commit decides, sends the status and header, and writes what was held
// back. big says the body is large enough to compress.
func (cw *compressWriter) commit(big bool) error {
	if cw.code == 0 {
		cw.code = http.StatusOK
	}
	h := cw.w.Header()
	ct, sniffed := "", false
	if v, ok := h["Content-Type"]; ok {
		if len(v) > 0 {
			ct = v[0]
		}
	} else if len(cw.buf) > 0 {
		ct, sniffed = http.DetectContentType(cw.buf), true
	}
	compressible := ct != "" && h.Get("Content-Encoding") == "" && cw.comp.compressible(ct)
	if compressible {
		addVaryField(h, "Accept-Encoding")
	}
	if compressible && big && cw.coding != "" && compressibleStatus(cw.code) && !noTransform(h) {
		if sniffed {
			h.Set("Content-Type", ct) // the server must not sniff the compressed bytes
		}
		h.Del("Content-Length")
		h.Del("Accept-Ranges")
		h.Set("Content-Encoding", cw.coding)
		if etag := h.Get("ETag"); etag != "" && !strings.HasPrefix(etag, "W/") {
			h.Set("ETag", "W/"+etag)
		}
		cw.w.WriteHeader(cw.code)
		cw.enc = cw.comp.encoder(cw.coding, cw.w)
		cw.state = compressActive
	} else {
		cw.w.WriteHeader(cw.code)
		cw.state = compressPassing
	}
	if len(cw.buf) == 0 {
		return nil
	}
	buf := cw.buf
	cw.buf = cw.buf[:0]
	_, err := cw.Write(buf)
	return err
}

// finish decides if the handler returned before anything did, and ends the
// compressed stream.
func (cw *compressWriter) finish() {
	if cw.state == compressHolding {
		if cw.code == 0 {
			cw.WriteHeader(http.StatusOK)
		}
		if cw.state == compressHolding {
			_ = cw.commit(len(cw.buf) >= cw.minSize && len(cw.buf) > 0)
		}
	}
	if cw.state == compressActive {
		_ = cw.enc.Close() // nobody to tell: the handler has returned
	}
}

// Flush ends the holding back and flushes the encoder and the underlying
// writer.
func (cw *compressWriter) Flush() { _ = cw.FlushError() }

// FlushError is Flush returning the error; http.ResponseController prefers
// it.
func (cw *compressWriter) FlushError() error {
	if cw.state == compressHolding {
		if cw.code == 0 {
			cw.WriteHeader(http.StatusOK)
		}
		if cw.state == compressHolding {
			if err := cw.commit(true); err != nil {
				return err
			}
		}
	}
	if cw.state == compressActive {
		if err := cw.enc.Flush(); err != nil {
			return err
		}
	}
	return http.NewResponseController(cw.w).Flush()
}

// Hijack hands the connection over; nothing more is written through cw.
func (cw *compressWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	conn, rw, err := http.NewResponseController(cw.w).Hijack()
	if errors.Is(err, http.ErrNotSupported) {
		return nil, nil, errors.New("middleware: the underlying ResponseWriter does not support hijacking")
	}
	if err == nil {
		cw.state = compressHijacked
	}
	return conn, rw, err
}

// Unwrap returns the underlying writer, for http.ResponseController.
func (cw *compressWriter) Unwrap() http.ResponseWriter { return cw.w }

// compressibleStatus reports whether a response with this status may be
// compressed: it has a body that is not a part of another.
func compressibleStatus(code int) bool {
	switch code {
	case http.StatusNoContent, http.StatusResetContent, http.StatusPartialContent, http.StatusNotModified:
		return false
	}
	return code >= 200
}

// noTransform reports whether h has Cache-Control: no-transform.
func noTransform(h http.Header) bool {
	for _, v := range h["Cache-Control"] {
		for v != "" {
			var d string
			d, v, _ = strings.Cut(v, ",")
			if strings.EqualFold(strings.TrimSpace(d), "no-transform") {
				return true
			}
		}
	}
	return false
}

// addVaryField adds name to h's Vary unless it, or "*", is there already.
func addVaryField(h http.Header, name string) {
	for _, v := range h["Vary"] {
		for v != "" {
			var f string
			f, v, _ = strings.Cut(v, ",")
			if f = strings.TrimSpace(f); f == "*" || strings.EqualFold(f, name) {
				return
			}
		}
	}
	h.Add("Vary", name)
}
