package main

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// shot is the outcome of one request.
type shot struct {
	lag     time.Duration // from when it was due to when it was sent
	latency time.Duration // from when it was due to the end of the answer
	status  int           // 0: a transport error (no answer)
}

// load is an open-loop load at a fixed rate: request i is due at start + i/rate, whatever
// happened to the ones before, and its latency runs from then. A slow answer therefore
// counts every request it held up, in the client or the server (no coordinated omission).
type load struct {
	url    string
	rate   float64
	bodies []string // one per request, in order
	conns  int      // requests in flight at most, one connection each

	shots []shot
	ids   []string // the id of each 202 answer
	start time.Time
}

// due is when request i is due, after start.
func (l *load) due(i int) time.Duration {
	return time.Duration(float64(i) * float64(time.Second) / l.rate)
}

// run sends every request, each at its time, and waits for the last answer. conns goroutines
// take the requests in order, each on a keep-alive connection of its own; one that is free
// sleeps until its next request is due. When every one is busy, requests wait for a free
// one: the lag shows it, and the latency counts it.
func (l *load) run(ctx context.Context) {
	n := len(l.bodies)
	l.shots = make([]shot, n)
	l.ids = make([]string, n)
	u, err := url.Parse(l.url)
	if err != nil {
		panic(err) // the URL is ours
	}
	// The request's head up to its length, the same for every post: a browser sends a few
	// more headers, which cost the server little.
	head := "POST " + u.RequestURI() + " HTTP/1.1\r\nHost: " + u.Host +
		"\r\nContent-Type: application/x-www-form-urlencoded\r\nAccept: application/json\r\nContent-Length: "

	var next atomic.Int64
	var wg sync.WaitGroup
	if l.start.IsZero() {
		l.start = time.Now().Add(50 * time.Millisecond) // every goroutine is up by then
	}
	for range l.conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := &client{addr: u.Host, head: head}
			defer c.close()
			timer := time.NewTimer(time.Hour)
			defer timer.Stop()
			for {
				i := int(next.Add(1) - 1)
				if i >= n || ctx.Err() != nil {
					return
				}
				due := l.start.Add(l.due(i))
				if d := time.Until(due); d > 0 {
					timer.Reset(d)
					select {
					case <-timer.C:
					case <-ctx.Done():
						return
					}
				}
				l.shots[i], l.ids[i] = c.post(l.bodies[i], due)
			}
		}()
	}
	wg.Wait()
}

// client is one keep-alive HTTP/1.1 connection that posts a form and reads the answer. It
// is leaner than net/http's client, whose CPU time would be taken from the server's on a
// machine that runs both.
type client struct {
	addr string
	head string
	conn net.Conn
	br   *bufio.Reader
	req  []byte
	body []byte
}

// timeout bounds one request; past it, the request counts as a transport error.
const timeout = 30 * time.Second

func (c *client) post(body string, due time.Time) (shot, string) {
	c.req = append(append(strconv.AppendInt(append(c.req[:0], c.head...), int64(len(body)), 10), "\r\n\r\n"...), body...)
	sent := time.Now()
	status, err := c.roundTrip(sent)
	end := time.Now()
	s := shot{lag: sent.Sub(due), latency: end.Sub(due), status: status}
	if err != nil {
		c.close()
		s.status = 0
		return s, ""
	}
	var id string
	if status == 202 {
		var a struct {
			ID string `json:"id"`
		}
		if json.Unmarshal(c.body, &a) == nil {
			id = a.ID
		}
	}
	return s, id
}

func (c *client) roundTrip(now time.Time) (int, error) {
	if c.conn == nil {
		conn, err := net.DialTimeout("tcp", c.addr, 5*time.Second)
		if err != nil {
			return 0, err
		}
		c.conn, c.br = conn, bufio.NewReaderSize(conn, 4<<10)
	}
	if err := c.conn.SetDeadline(now.Add(timeout)); err != nil {
		return 0, err
	}
	if _, err := c.conn.Write(c.req); err != nil {
		return 0, err
	}
	res, err := http.ReadResponse(c.br, nil)
	if err != nil {
		return 0, err
	}
	c.body = c.body[:0]
	for {
		if len(c.body) == cap(c.body) {
			c.body = append(c.body, 0)[:len(c.body)]
		}
		n, err := res.Body.Read(c.body[len(c.body):cap(c.body)])
		c.body = c.body[:len(c.body)+n]
		if err == io.EOF {
			break
		}
		if err != nil {
			return 0, err
		}
	}
	res.Body.Close()
	if res.Close {
		c.close()
	}
	return res.StatusCode, nil
}

func (c *client) close() {
	if c.conn != nil {
		c.conn.Close()
		c.conn, c.br = nil, nil
	}
}
