// Package blob stores opaque files by key: uploads waiting for moderation, and deploy
// targets. The embedded default is a local folder (localfs); s3 keeps them in a bucket.
package blob

import (
	"context"
	"errors"
	"fmt"
	"strings"
)

// Store keeps files by key. Keys are slash-separated relative paths.
type Store interface {
	// Put stores data under key durably before it returns, replacing what was there.
	Put(ctx context.Context, key string, data []byte) error
	// Get returns the data under key, or ErrNotFound.
	Get(ctx context.Context, key string) ([]byte, error)
	// Delete removes key; deleting a missing key is not an error.
	Delete(ctx context.Context, key string) error
}

// ErrNotFound is returned by Get for a missing key.
var ErrNotFound = errors.New("blob: not found")

// CheckKey refuses keys that are not clean relative paths: a key must never name a file
// outside the store.
func CheckKey(key string) error {
	if key == "" || len(key) > 512 || strings.HasPrefix(key, "/") || strings.Contains(key, "\\") || strings.ContainsRune(key, 0) {
		return fmt.Errorf("blob: invalid key %q", key)
	}
	for _, seg := range strings.Split(key, "/") {
		if seg == "" || seg == "." || seg == ".." {
			return fmt.Errorf("blob: invalid key %q", key)
		}
	}
	return nil
}
