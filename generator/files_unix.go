//go:build unix

package generator

import (
	"bytes"
	"io/fs"
	"sync"
	"syscall"
)

// The site's files are read and the output written with plain system calls. A build
// touches tens of thousands of small files, and os.File's set-up for each (flags, the
// poller, a stat) costs more calls than the reading or writing itself, where every call
// is dear (a virtual machine's).

// readFile reads a whole regular file. It reads into a pooled buffer and returns an exact
// copy: the site's model keeps slices of what it reads, and a buffer sized for the largest
// file would keep its whole capacity alive for each of tens of thousands of small ones.
func readFile(name string) ([]byte, error) {
	fd, err := openRetry(name, syscall.O_RDONLY|syscall.O_CLOEXEC, 0)
	if err != nil {
		return nil, &fs.PathError{Op: "open", Path: name, Err: err}
	}
	defer syscall.Close(fd)
	bp := readBufs.Get().(*[]byte)
	defer func() {
		if cap(*bp) <= maxPooledRead {
			readBufs.Put(bp)
		}
	}()
	buf := (*bp)[:0]
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
			*bp = buf
		}
		n, err := syscall.Read(fd, buf[len(buf):cap(buf)])
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			return nil, &fs.PathError{Op: "read", Path: name, Err: err}
		}
		if n == 0 {
			return bytes.Clone(buf), nil
		}
		buf = buf[:len(buf)+n]
	}
}

const maxPooledRead = 1 << 20

var readBufs = sync.Pool{New: func() any { b := make([]byte, 0, 64<<10); return &b }}

// writeFile creates or truncates name and writes data to it.
func writeFile(name string, data []byte) error {
	fd, err := openRetry(name, syscall.O_WRONLY|syscall.O_CREAT|syscall.O_TRUNC|syscall.O_CLOEXEC, 0o644)
	if err != nil {
		return &fs.PathError{Op: "open", Path: name, Err: err}
	}
	for len(data) > 0 {
		n, err := syscall.Write(fd, data)
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			syscall.Close(fd)
			return &fs.PathError{Op: "write", Path: name, Err: err}
		}
		data = data[n:]
	}
	if err := syscall.Close(fd); err != nil {
		return &fs.PathError{Op: "close", Path: name, Err: err}
	}
	return nil
}

func openRetry(name string, flags int, perm uint32) (int, error) {
	for {
		fd, err := syscall.Open(name, flags, perm)
		if err != syscall.EINTR {
			return fd, err
		}
	}
}
