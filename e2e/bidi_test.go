package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"

	"github.com/coder/websocket"
)

// A small WebDriver BiDi client (https://w3c.github.io/webdriver-bidi/):
// commands are JSON objects {id, method, params} sent over one websocket;
// the browser answers each with {type: "success", id, result} or
// {type: "error", id, error, message} and pushes events as
// {type: "event", method, params}. One goroutine reads every message and
// hands answers to the waiting caller and events to a callback.

// bidiMessage is any message the browser sends.
type bidiMessage struct {
	Type string `json:"type"` // success, error or event
	ID   *int64 `json:"id"`   // commands' answers; null in an error about a message without an id

	Result json.RawMessage `json:"result"` // success

	Error      string `json:"error"` // error code, e.g. "no such frame"
	Message    string `json:"message"`
	Stacktrace string `json:"stacktrace"`

	Method string          `json:"method"` // event
	Params json.RawMessage `json:"params"`
}

// bidiError is an error answer to a command.
type bidiError struct {
	Method  string
	Code    string
	Message string
}

func (e *bidiError) Error() string {
	return fmt.Sprintf("%s: %s: %s", e.Method, e.Code, e.Message)
}

// bidiEvent receives the browser's events on the reading goroutine: it must
// return quickly and must not wait for another command's answer.
type bidiEvent func(method string, params json.RawMessage)

type bidiConn struct {
	ws      *websocket.Conn
	onEvent bidiEvent

	mu      sync.Mutex
	nextID  int64
	pending map[int64]chan bidiMessage
	err     error         // why reading stopped; set before done closes
	done    chan struct{} // closed when the reader ends
}

// maxBiDiMessage bounds one message from the browser: full-page screenshots
// are the largest.
const maxBiDiMessage = 64 << 20

// dialBiDi connects to a BiDi endpoint (ws://host:port/session) and starts
// reading; onEvent may be nil.
func dialBiDi(ctx context.Context, url string, onEvent bidiEvent) (*bidiConn, error) {
	ws, _, err := websocket.Dial(ctx, url, nil)
	if err != nil {
		return nil, fmt.Errorf("connect to %s: %w", url, err)
	}
	ws.SetReadLimit(maxBiDiMessage)
	c := &bidiConn{ws: ws, onEvent: onEvent, pending: map[int64]chan bidiMessage{}, done: make(chan struct{})}
	go c.read()
	return c, nil
}

func (c *bidiConn) read() {
	var err error
	for {
		var data []byte
		_, data, err = c.ws.Read(context.Background())
		if err != nil {
			err = fmt.Errorf("read from browser: %w", err)
			break
		}
		var m bidiMessage
		if err = json.Unmarshal(data, &m); err != nil {
			err = fmt.Errorf("browser sent a message that is not JSON (%.200q): %w", data, err)
			break
		}
		switch {
		case m.Type == "event":
			if c.onEvent != nil {
				c.onEvent(m.Method, m.Params)
			}
		case m.ID != nil:
			c.mu.Lock()
			ch := c.pending[*m.ID]
			delete(c.pending, *m.ID)
			c.mu.Unlock()
			if ch != nil {
				ch <- m // buffered: the caller may have given up
			}
		case m.Type == "error":
			// An error about a message the browser could not attribute to a
			// command: nobody waits for it, but it means our message was bad.
			err = fmt.Errorf("browser refused a message: %s: %s", m.Error, m.Message)
		}
		if err != nil {
			break
		}
	}
	c.mu.Lock()
	c.err = err
	c.mu.Unlock()
	close(c.done)
}

// call sends a command and waits for its answer, decoding the result into
// result unless that is nil.
func (c *bidiConn) call(ctx context.Context, method string, params, result any) error {
	if params == nil {
		params = struct{}{}
	}
	ch := make(chan bidiMessage, 1)
	c.mu.Lock()
	if c.err != nil {
		err := c.err
		c.mu.Unlock()
		return fmt.Errorf("%s: connection closed: %w", method, err)
	}
	c.nextID++
	id := c.nextID
	c.pending[id] = ch
	c.mu.Unlock()
	forget := func() {
		c.mu.Lock()
		delete(c.pending, id)
		c.mu.Unlock()
	}

	msg, err := json.Marshal(struct {
		ID     int64  `json:"id"`
		Method string `json:"method"`
		Params any    `json:"params"`
	}{id, method, params})
	if err != nil {
		forget()
		return fmt.Errorf("%s: encode params: %w", method, err)
	}
	if err := c.ws.Write(ctx, websocket.MessageText, msg); err != nil {
		forget()
		return fmt.Errorf("%s: send: %w", method, err)
	}
	select {
	case m := <-ch:
		if m.Type == "error" {
			return &bidiError{Method: method, Code: m.Error, Message: m.Message}
		}
		if m.Type != "success" {
			return fmt.Errorf("%s: answer of type %q", method, m.Type)
		}
		if result != nil {
			if err := json.Unmarshal(m.Result, result); err != nil {
				return fmt.Errorf("%s: decode result %.200q: %w", method, m.Result, err)
			}
		}
		return nil
	case <-c.done:
		forget()
		c.mu.Lock()
		err := c.err
		c.mu.Unlock()
		return fmt.Errorf("%s: connection closed: %w", method, err)
	case <-ctx.Done():
		forget()
		return fmt.Errorf("%s: %w", method, ctx.Err())
	}
}

// close closes the connection and waits for the reader to end. The
// browser may have dropped it already (browser.close), so there is nothing
// to report.
func (c *bidiConn) close() {
	_ = c.ws.CloseNow()
	<-c.done
}
