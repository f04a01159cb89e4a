package testenv

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// MinIOVersion is the MinIO release tests run against, built from the module proxy.
const MinIOVersion = "v0.0.0-20260212201848-7aac2a2c5b7c"

// MinIOPath returns the path of the cached MinIO binary, building it on first use (about
// two and a half minutes from a cold module and build cache).
func MinIOPath(ctx context.Context) (string, error) {
	return Binary(ctx, "minio-"+MinIOVersion, GoInstall("github.com/minio/minio@"+MinIOVersion))
}

// MinIO is a running MinIO server on loopback, with its root keys.
type MinIO struct {
	Endpoint  string // http://127.0.0.1:PORT
	AccessKey string
	SecretKey string
	Region    string
	Process   *Process
	buckets   atomic.Int32
}

// StartMinIO starts a MinIO server on free loopback ports, with its data in a temporary
// folder, and stops it when the test ends. It skips the test under -short. Once the binary
// is cached, it is ready in about a second.
func StartMinIO(t testing.TB) *MinIO {
	t.Helper()
	if testing.Short() {
		t.Skip("needs MinIO, which -short leaves out")
	}
	path, err := MinIOPath(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	m := &MinIO{AccessKey: "parvis-test", SecretKey: randomHex(t, 16), Region: "us-east-1"}
	addr := fmt.Sprintf("127.0.0.1:%d", FreePort(t))
	m.Endpoint = "http://" + addr
	m.Process = Start(t, Server{
		Path: path,
		Args: []string{"server", filepath.Join(dir, "data"),
			"--address", addr, "--console-address", fmt.Sprintf("127.0.0.1:%d", FreePort(t)),
			"--certs-dir", filepath.Join(dir, "certs"), "--quiet"},
		Env: []string{
			"MINIO_ROOT_USER=" + m.AccessKey, "MINIO_ROOT_PASSWORD=" + m.SecretKey,
			"MINIO_BROWSER=off", "MINIO_UPDATE=off", "MINIO_REGION=" + m.Region,
			"HOME=" + dir, // MinIO keeps a config folder in the home; not the user's
		},
		Ready:   HTTPReady(m.Endpoint + "/minio/health/ready"),
		Timeout: 90 * time.Second,
	})
	return m
}

// Client returns an S3 client for the server, with its root keys.
func (m *MinIO) Client() *s3.Client {
	return s3.New(s3.Options{
		Region:       m.Region,
		BaseEndpoint: aws.String(m.Endpoint),
		UsePathStyle: true,
		Credentials:  credentials.NewStaticCredentialsProvider(m.AccessKey, m.SecretKey, ""),
	})
}

// Bucket makes a new, empty bucket with a name of its own for the test, and returns it.
func (m *MinIO) Bucket(t testing.TB) string {
	t.Helper()
	name := fmt.Sprintf("test-%d-%s", m.buckets.Add(1), randomHex(t, 4))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := m.Client().CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(name)}); err != nil {
		t.Fatalf("MinIO: make bucket %s: %v", name, err)
	}
	return name
}

// Env returns the variables that give a child process the server's keys through the
// standard AWS chain.
func (m *MinIO) Env() []string {
	return []string{"AWS_ACCESS_KEY_ID=" + m.AccessKey, "AWS_SECRET_ACCESS_KEY=" + m.SecretKey,
		"AWS_REGION=" + m.Region, "AWS_EC2_METADATA_DISABLED=true"}
}

func randomHex(t testing.TB, n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return strings.ToLower(hex.EncodeToString(b))
}
