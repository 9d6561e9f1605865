package pbxsim

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"

	"recordings/pbxlink"
)

// Pipe joins the service's PBX API clients (pbxlink.Client) to the
// simulated PBX's handlers in memory, without a websocket: each message is
// encoded to JSON as on the App-object connection and delivered in order,
// one goroutine per direction, so that either side may send while it
// handles a message. Close drops the connection.
type Pipe struct {
	ctx      context.Context
	cancel   context.CancelFunc
	clients  map[string]pbxlink.Client
	handlers map[string]Handler
	toPBX    *queue
	toSvc    *queue
	wg       sync.WaitGroup

	mu     sync.Mutex
	errs   []error
	closed bool
}

// NewPipe connects clients and handlers (keyed by api) and announces info
// to the clients whose api it lists (Connected), as the service does on
// PbxInfo.
func NewPipe(ctx context.Context, info pbxlink.PbxInfo, clients []pbxlink.Client, handlers map[string]Handler) *Pipe {
	ctx, cancel := context.WithCancel(ctx)
	p := &Pipe{ctx: ctx, cancel: cancel, clients: map[string]pbxlink.Client{}, handlers: handlers,
		toPBX: newQueue(), toSvc: newQueue()}
	for _, c := range clients {
		p.clients[c.API()] = c
	}
	p.wg.Add(2)
	go p.run(p.toPBX, p.deliverPBX)
	go p.run(p.toSvc, p.deliverService)
	for _, c := range clients {
		for _, api := range info.APIs {
			if api == c.API() {
				c.Connected(ctx, pipeSender{p}, info)
			}
		}
	}
	return p
}

// pipeSender is the service's Sender on the pipe.
type pipeSender struct{ p *Pipe }

func (s pipeSender) Send(ctx context.Context, msg any) error {
	b, err := json.Marshal(msg)
	if err != nil {
		return fmt.Errorf("pipe: encode: %w", err)
	}
	if !s.p.toPBX.push(b) {
		return fmt.Errorf("pipe: connection closed")
	}
	return nil
}

type envelope struct {
	MT  string `json:"mt"`
	API string `json:"api"`
	Src string `json:"src"`
}

func (p *Pipe) run(q *queue, deliver func([]byte)) {
	defer p.wg.Done()
	for {
		b, ok := q.pop()
		if !ok {
			return
		}
		deliver(b)
	}
}

func (p *Pipe) fail(err error) {
	p.mu.Lock()
	p.errs = append(p.errs, err)
	p.mu.Unlock()
}

// Errors are the errors handlers returned and messages nobody took.
func (p *Pipe) Errors() []error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]error(nil), p.errs...)
}

func (p *Pipe) deliverPBX(b []byte) {
	var e envelope
	if err := json.Unmarshal(b, &e); err != nil {
		p.fail(fmt.Errorf("pipe: to PBX: %w", err))
		return
	}
	h, ok := p.handlers[e.API]
	if !ok {
		p.fail(fmt.Errorf("pipe: no PBX API %q for %s", e.API, e.MT))
		return
	}
	send := func(msg any) error {
		b, err := json.Marshal(msg)
		if err != nil {
			return fmt.Errorf("pipe: encode: %w", err)
		}
		if !p.toSvc.push(b) {
			return fmt.Errorf("pipe: connection closed")
		}
		return nil
	}
	if err := h.Serve(send, e.MT, e.Src, b); err != nil {
		p.fail(fmt.Errorf("pipe: %s %s: %w", e.API, e.MT, err))
	}
}

func (p *Pipe) deliverService(b []byte) {
	var e envelope
	if err := json.Unmarshal(b, &e); err != nil {
		p.fail(fmt.Errorf("pipe: to service: %w", err))
		return
	}
	c, ok := p.clients[e.API]
	if !ok {
		p.fail(fmt.Errorf("pipe: no client for api %q (%s)", e.API, e.MT))
		return
	}
	c.Handle(p.ctx, pbxlink.Msg{MT: e.MT, API: e.API, Src: e.Src, Raw: b})
}

// Close drops the connection: messages not yet delivered are lost, the
// clients are told Disconnected and the handlers Reset. It returns once
// both directions stopped.
func (p *Pipe) Close() {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return
	}
	p.closed = true
	p.mu.Unlock()
	p.cancel()
	p.toPBX.close()
	p.toSvc.close()
	p.wg.Wait()
	for _, c := range p.clients {
		c.Disconnected()
	}
	for _, h := range p.handlers {
		h.Reset()
	}
}

// queue is an unbounded FIFO of messages.
type queue struct {
	mu     sync.Mutex
	items  [][]byte
	closed bool
	ready  chan struct{} // has a token while items is non-empty or closed
}

func newQueue() *queue { return &queue{ready: make(chan struct{}, 1)} }

func (q *queue) signal() {
	select {
	case q.ready <- struct{}{}:
	default:
	}
}

func (q *queue) push(b []byte) bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.closed {
		return false
	}
	q.items = append(q.items, b)
	q.signal()
	return true
}

func (q *queue) close() {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.closed = true
	q.items = nil
	q.signal()
}

func (q *queue) pop() ([]byte, bool) {
	for {
		q.mu.Lock()
		if q.closed {
			q.mu.Unlock()
			return nil, false
		}
		if len(q.items) > 0 {
			b := q.items[0]
			q.items = q.items[1:]
			if len(q.items) > 0 {
				q.signal()
			}
			q.mu.Unlock()
			return b, true
		}
		q.mu.Unlock()
		<-q.ready
	}
}
