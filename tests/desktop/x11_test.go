package desktop

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"time"
)

// xconn is a minimal X11 client, just enough for the tests to do what a
// user (or a window manager) does: close a window through its close
// button (WM_DELETE_WINDOW) and type a key combination (XTEST). It speaks
// the core protocol over the display's Unix socket, so the tests need no
// xdotool or cgo. Requests are sent one at a time.
type xconn struct {
	c                  net.Conn
	root               uint32
	minKey, maxKey     byte
	xtestOpcode        byte // 0 until xtest is called
	keysPerCode        int
	keysyms            []uint32 // from GetKeyboardMapping, per keycode from minKey
	keyboardMappingSet bool
}

// X11 request opcodes and event codes used here.
const (
	opInternAtom         = 16
	opSendEvent          = 25
	opSetInputFocus      = 42
	opGetInputFocus      = 43
	opQueryExtension     = 98
	opGetKeyboardMapping = 101
	evClientMessage      = 33
	xtestFakeInput       = 2
	evKeyPress           = 2
	evKeyRelease         = 3
)

var le = binary.LittleEndian

// dialX connects to display (":N") as a client without authorization,
// which an Xvfb started without -auth accepts from local clients.
func dialX(display string) (*xconn, error) {
	n := strings.TrimPrefix(display, ":")
	if i := strings.IndexByte(n, '.'); i >= 0 {
		n = n[:i]
	}
	c, err := net.DialTimeout("unix", "/tmp/.X11-unix/X"+n, 5*time.Second)
	if err != nil {
		return nil, fmt.Errorf("connecting to X display %s: %w", display, err)
	}
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	x := &xconn{c: c}
	if err := x.setup(); err != nil {
		c.Close()
		return nil, fmt.Errorf("X display %s: %w", display, err)
	}
	return x, nil
}

func (x *xconn) Close() error { return x.c.Close() }

// setup performs the connection handshake and keeps the first screen's
// root window and the keycode range.
func (x *xconn) setup() error {
	req := []byte{'l', 0, 11, 0, 0, 0, 0, 0, 0, 0, 0, 0} // little-endian, protocol 11.0, no auth
	if _, err := x.c.Write(req); err != nil {
		return err
	}
	head := make([]byte, 8)
	if _, err := io.ReadFull(x.c, head); err != nil {
		return err
	}
	body := make([]byte, 4*int(le.Uint16(head[6:])))
	if _, err := io.ReadFull(x.c, body); err != nil {
		return err
	}
	if head[0] != 1 {
		return fmt.Errorf("connection refused: %q", body[:min(int(head[1]), len(body))])
	}
	vendorLen := int(le.Uint16(body[16:]))
	formats := int(body[21])
	x.minKey, x.maxKey = body[26], body[27]
	screen := 32 + pad4(vendorLen) + 8*formats
	x.root = le.Uint32(body[screen:])
	return nil
}

// request sends one request and, when wantReply, returns its reply.
// Events are skipped; an X error is returned as an error.
func (x *xconn) request(req []byte, wantReply bool) ([]byte, error) {
	if len(req)%4 != 0 {
		panic("x11: request not padded")
	}
	le.PutUint16(req[2:], uint16(len(req)/4))
	if _, err := x.c.Write(req); err != nil {
		return nil, err
	}
	if !wantReply {
		// A round trip that has a reply tells whether the request failed.
		_, err := x.request([]byte{opGetInputFocus, 0, 0, 0}, true)
		return nil, err
	}
	for {
		msg := make([]byte, 32)
		if _, err := io.ReadFull(x.c, msg); err != nil {
			return nil, err
		}
		switch msg[0] {
		case 0:
			return nil, fmt.Errorf("X error %d (request opcode %d)", msg[1], msg[10])
		case 1:
			extra := make([]byte, 4*int(le.Uint32(msg[4:])))
			if _, err := io.ReadFull(x.c, extra); err != nil {
				return nil, err
			}
			return append(msg, extra...), nil
		}
	}
}

// atom returns the atom for name, creating it if need be.
func (x *xconn) atom(name string) (uint32, error) {
	req := make([]byte, 8+pad4(len(name)))
	req[0] = opInternAtom
	le.PutUint16(req[4:], uint16(len(name)))
	copy(req[8:], name)
	reply, err := x.request(req, true)
	if err != nil {
		return 0, fmt.Errorf("InternAtom %s: %w", name, err)
	}
	return le.Uint32(reply[8:]), nil
}

// closeWindow asks the client that owns window to close it, as a window
// manager does when the user clicks the close button: a WM_DELETE_WINDOW
// ClientMessage.
func (x *xconn) closeWindow(window uint32) error {
	protocols, err := x.atom("WM_PROTOCOLS")
	if err != nil {
		return err
	}
	deleteWindow, err := x.atom("WM_DELETE_WINDOW")
	if err != nil {
		return err
	}
	req := make([]byte, 44)
	req[0] = opSendEvent
	le.PutUint32(req[4:], window)
	le.PutUint32(req[8:], 0) // no event mask: deliver to the window's owner
	ev := req[12:]
	ev[0] = evClientMessage
	ev[1] = 32 // format
	le.PutUint32(ev[4:], window)
	le.PutUint32(ev[8:], protocols)
	le.PutUint32(ev[12:], deleteWindow)
	le.PutUint32(ev[16:], 0) // CurrentTime
	_, err = x.request(req, false)
	return err
}

// focus gives window the keyboard focus.
func (x *xconn) focus(window uint32) error {
	req := make([]byte, 12)
	req[0] = opSetInputFocus
	req[1] = 2 // revert to parent
	le.PutUint32(req[4:], window)
	_, err := x.request(req, false)
	return err
}

// typeKeys presses the keys named by keysyms in order and releases them in
// reverse, through the XTEST extension (as xdotool does): Control_L, q
// types Ctrl+Q into the focused window.
func (x *xconn) typeKeys(keysyms ...uint32) error {
	if err := x.xtest(); err != nil {
		return err
	}
	codes := make([]byte, len(keysyms))
	for i, ks := range keysyms {
		code, err := x.keycode(ks)
		if err != nil {
			return err
		}
		codes[i] = code
	}
	for _, c := range codes {
		if err := x.fakeKey(evKeyPress, c); err != nil {
			return err
		}
	}
	for i := len(codes) - 1; i >= 0; i-- {
		if err := x.fakeKey(evKeyRelease, codes[i]); err != nil {
			return err
		}
	}
	return nil
}

// Keysyms the tests type.
const (
	keysymControlL = 0xffe3
	keysymReturn   = 0xff0d
	keysymQ        = 'q'
)

func (x *xconn) xtest() error {
	if x.xtestOpcode != 0 {
		return nil
	}
	const name = "XTEST"
	req := make([]byte, 8+pad4(len(name)))
	req[0] = opQueryExtension
	le.PutUint16(req[4:], uint16(len(name)))
	copy(req[8:], name)
	reply, err := x.request(req, true)
	if err != nil {
		return fmt.Errorf("QueryExtension XTEST: %w", err)
	}
	if reply[8] == 0 {
		return errors.New("the X server has no XTEST extension")
	}
	x.xtestOpcode = reply[9]
	return nil
}

// keycode finds a key that types keysym without modifiers.
func (x *xconn) keycode(keysym uint32) (byte, error) {
	if !x.keyboardMappingSet {
		req := make([]byte, 8)
		req[0] = opGetKeyboardMapping
		req[4] = x.minKey
		req[5] = x.maxKey - x.minKey + 1
		reply, err := x.request(req, true)
		if err != nil {
			return 0, fmt.Errorf("GetKeyboardMapping: %w", err)
		}
		x.keysPerCode = int(reply[1])
		for i := 32; i+4 <= len(reply); i += 4 {
			x.keysyms = append(x.keysyms, le.Uint32(reply[i:]))
		}
		x.keyboardMappingSet = true
	}
	for i := 0; i+x.keysPerCode <= len(x.keysyms); i += x.keysPerCode {
		if x.keysyms[i] == keysym {
			return x.minKey + byte(i/x.keysPerCode), nil
		}
	}
	return 0, fmt.Errorf("no key types keysym %#x", keysym)
}

func (x *xconn) fakeKey(kind, code byte) error {
	req := make([]byte, 36)
	req[0] = x.xtestOpcode
	req[1] = xtestFakeInput
	req[4] = kind
	req[5] = code
	_, err := x.request(req, false)
	return err
}

func pad4(n int) int { return (n + 3) &^ 3 }
