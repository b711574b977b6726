package mailcatch

import (
	"bytes"
	"io"
	"net"
	"sync"
	"time"
)

// faults are the misbehaviours of a slow or flaky server that a test turns
// on: a late reply to the end of the message, a connection dropped at QUIT.
type faults struct {
	mu         sync.Mutex
	replyDelay time.Duration
	dropQuit   bool
}

// DelayReply makes the server wait d after it has read a whole message
// before it answers its end (and keeps it, as a real server does once it
// decided): a slow server, such as one filtering the message, which RFC
// 5321 §4.5.3.2.6 allows 10 minutes. Zero answers at once again.
func (c *Catcher) DelayReply(d time.Duration) {
	c.faults.mu.Lock()
	defer c.faults.mu.Unlock()
	c.faults.replyDelay = d
}

// DropAtQuit makes the server close the connection when the client sends
// QUIT, without the 221 reply: the client's QUIT fails after its messages
// were accepted.
func (c *Catcher) DropAtQuit() {
	c.faults.mu.Lock()
	defer c.faults.mu.Unlock()
	c.faults.dropQuit = true
}

// delayReply waits as DelayReply asked.
func (f *faults) delayReply() {
	f.mu.Lock()
	d := f.replyDelay
	f.mu.Unlock()
	time.Sleep(d)
}

func (f *faults) dropsQuit() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.dropQuit
}

// faultyListener hands the server connections that can drop at QUIT.
type faultyListener struct {
	net.Listener
	f *faults
}

func (l faultyListener) Accept() (net.Conn, error) {
	conn, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &faultyConn{Conn: conn, f: l.f}, nil
}

// faultyConn closes itself instead of passing QUIT on while DropAtQuit is
// on. The client sends QUIT in a packet of its own after the reply to the
// previous command, so it starts what one Read returns.
type faultyConn struct {
	net.Conn
	f *faults
}

func (c *faultyConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	if n > 0 && bytes.HasPrefix(bytes.ToUpper(p[:n]), []byte("QUIT")) && c.f.dropsQuit() {
		_ = c.Conn.Close()
		return 0, io.EOF
	}
	return n, err
}
