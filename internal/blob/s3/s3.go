// Package s3 is a blob.Store in an S3-compatible bucket (AWS, MinIO, Garage, OVH, Scaleway,
// Cloudflare R2...), under a key prefix. It is also what parvis deploy writes a site to, so
// beside blob.Store it puts objects with the headers a web server would send, and lists them.
package s3

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/parvis/parvis/internal/blob"
)

// Location is a bucket and a key prefix, written s3://bucket/prefix.
type Location struct {
	Bucket string
	Prefix string // slash-separated, with no slash at either end; may be empty
}

func (l Location) String() string {
	if l.Prefix == "" {
		return "s3://" + l.Bucket
	}
	return "s3://" + l.Bucket + "/" + l.Prefix
}

// bucketName is what every provider accepts: AWS's rules for new buckets (3 to 63 lower-case
// letters, digits, dots and hyphens, starting and ending with a letter or digit).
var bucketName = regexp.MustCompile(`^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$`)

// ParseURL reads s3://bucket/prefix. A trailing slash is dropped; empty, "." and ".."
// segments are refused, since some providers resolve them and others keep them as is.
func ParseURL(s string) (Location, error) {
	rest, ok := strings.CutPrefix(s, "s3://")
	if !ok {
		return Location{}, fmt.Errorf("%q is not an s3://bucket/prefix address", s)
	}
	bucket, prefix, _ := strings.Cut(rest, "/")
	if !bucketName.MatchString(bucket) || strings.Contains(bucket, "..") {
		return Location{}, fmt.Errorf("%q: %q is not a bucket name (3 to 63 lower-case letters, digits, dots and hyphens)", s, bucket)
	}
	prefix = strings.TrimSuffix(prefix, "/")
	if prefix != "" {
		if err := checkKey(prefix, 512); err != nil {
			return Location{}, fmt.Errorf("%q: the prefix %q is not a clean relative path", s, prefix)
		}
	}
	return Location{Bucket: bucket, Prefix: prefix}, nil
}

// Options say how to reach the provider. The zero value is AWS with the standard chain.
type Options struct {
	// Endpoint is the provider's address, such as https://s3.fr-par.scw.cloud. Empty: the
	// AWS configuration's (AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL, shared config), else AWS.
	Endpoint string
	// Region is the bucket's region. Empty: the AWS configuration's, else us-east-1, which
	// is what most other providers accept.
	Region string
	// PathStyle addresses the bucket as endpoint/bucket rather than bucket.endpoint, as
	// MinIO and Garage need by default.
	PathStyle bool
	// AccessKeyID and SecretAccessKey, when set, are used rather than the standard chain
	// (environment, shared credentials and config files, SSO, instance roles).
	AccessKeyID, SecretAccessKey, SessionToken string
	// MaxAttempts bounds the tries of one request on a network error, a 5xx or a throttling
	// answer, with exponential backoff and jitter between them. Zero means 6.
	MaxAttempts int
	// HTTPClient, when set, sends the requests (tests put faults in the way).
	HTTPClient *http.Client
}

// Store is a bucket under a prefix. It is safe for concurrent use.
type Store struct {
	loc    Location
	client *s3.Client
}

// New returns the store at loc. It makes no request: see Check.
func New(ctx context.Context, loc Location, o Options) (*Store, error) {
	if !bucketName.MatchString(loc.Bucket) {
		return nil, fmt.Errorf("s3: %q is not a bucket name", loc.Bucket)
	}
	if loc.Prefix != "" {
		if err := checkKey(loc.Prefix, 512); err != nil {
			return nil, fmt.Errorf("s3: prefix %q is not a clean relative path", loc.Prefix)
		}
	}
	if o.Endpoint != "" {
		u, err := url.Parse(o.Endpoint)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, fmt.Errorf("s3: endpoint %q is not an http:// or https:// address", o.Endpoint)
		}
	}
	attempts := o.MaxAttempts
	if attempts <= 0 {
		attempts = 6
	}
	opts := []func(*config.LoadOptions) error{
		config.WithDefaultRegion("us-east-1"),
		config.WithRetryer(func() aws.Retryer {
			return retry.NewStandard(func(so *retry.StandardOptions) {
				so.MaxAttempts = attempts
				so.MaxBackoff = 20 * time.Second
				// A deploy sends many requests at once: a burst of failures from a provider
				// having a bad minute must be retried each, not exhaust a shared quota.
				so.RateLimiter = ratelimit.None
			})
		}),
		// Only the checksums the API requires: the SDK's default (a CRC trailer on every
		// upload, in aws-chunked encoding) is refused by several S3-compatible providers.
		// Uploads carry a Content-MD5 instead, which every provider checks.
		config.WithRequestChecksumCalculation(aws.RequestChecksumCalculationWhenRequired),
		config.WithResponseChecksumValidation(aws.ResponseChecksumValidationWhenRequired),
	}
	if o.Region != "" {
		opts = append(opts, config.WithRegion(o.Region))
	}
	if o.AccessKeyID != "" || o.SecretAccessKey != "" {
		if o.AccessKeyID == "" || o.SecretAccessKey == "" {
			return nil, errors.New("s3: an access key id needs its secret access key, and the other way round")
		}
		opts = append(opts, config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider(o.AccessKeyID, o.SecretAccessKey, o.SessionToken)))
	}
	if o.HTTPClient != nil {
		opts = append(opts, config.WithHTTPClient(o.HTTPClient))
	}
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("s3: reading the AWS configuration: %w", err)
	}
	client := s3.NewFromConfig(cfg, func(so *s3.Options) {
		if o.Endpoint != "" {
			so.BaseEndpoint = aws.String(o.Endpoint)
		}
		so.UsePathStyle = o.PathStyle
	})
	return &Store{loc: loc, client: client}, nil
}

// Location returns where the store is.
func (s *Store) Location() Location { return s.loc }

// checkKey is blob.CheckKey with S3's own length limit (1024 bytes for the whole key).
func checkKey(key string, max int) error {
	if len(key) > max {
		return fmt.Errorf("key %q is longer than %d bytes", key, max)
	}
	if key == "" || strings.HasPrefix(key, "/") || strings.Contains(key, "\\") || strings.ContainsRune(key, 0) {
		return fmt.Errorf("invalid key %q", key)
	}
	for _, seg := range strings.Split(key, "/") {
		if seg == "" || seg == "." || seg == ".." {
			return fmt.Errorf("invalid key %q", key)
		}
	}
	return nil
}

// full is the bucket key of a store key.
func (s *Store) full(key string) (string, error) {
	if s.loc.Prefix != "" {
		key = s.loc.Prefix + "/" + key
	}
	if err := checkKey(key, 1024); err != nil {
		return "", fmt.Errorf("s3: %w", err)
	}
	return key, nil
}

func (s *Store) fail(op, key string, err error) error {
	return fmt.Errorf("%s: %s %s: %w", s.loc, op, key, err)
}

// Check asks for the bucket, so that a wrong name, endpoint or key is told at once.
func (s *Store) Check(ctx context.Context) error {
	_, err := s.client.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String(s.loc.Bucket)})
	if err == nil {
		return nil
	}
	switch status(err) {
	case http.StatusNotFound:
		return fmt.Errorf("%s: no such bucket", s.loc)
	case http.StatusForbidden, http.StatusUnauthorized:
		return fmt.Errorf("%s: access refused: check the keys (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY) and their rights on the bucket: %w", s.loc, err)
	}
	return fmt.Errorf("%s: %w", s.loc, err)
}

// status is the HTTP status of a failed request, or 0.
func status(err error) int {
	var re *awshttp.ResponseError
	if errors.As(err, &re) {
		return re.HTTPStatusCode()
	}
	return 0
}

func isNotFound(err error) bool {
	var nsk *types.NoSuchKey
	var nf *types.NotFound
	return errors.As(err, &nsk) || errors.As(err, &nf) || status(err) == http.StatusNotFound
}

// Put stores data as an opaque, private file (blob.Store).
func (s *Store) Put(ctx context.Context, key string, data []byte) error {
	if err := blob.CheckKey(key); err != nil {
		return err
	}
	_, err := s.PutObject(ctx, key, data, http.Header{"Content-Type": {"application/octet-stream"}})
	return err
}

// Get returns the data under key, or blob.ErrNotFound (blob.Store).
func (s *Store) Get(ctx context.Context, key string) ([]byte, error) {
	if err := blob.CheckKey(key); err != nil {
		return nil, err
	}
	b, _, err := s.GetObject(ctx, key)
	return b, err
}

// Delete removes key; a missing key is not an error (blob.Store).
func (s *Store) Delete(ctx context.Context, key string) error {
	if err := blob.CheckKey(key); err != nil {
		return err
	}
	return s.DeleteObject(ctx, key)
}

// Storable lists the headers an object keeps and the provider sends back with it. Others
// (Content-Security-Policy, X-Content-Type-Options...) are for the CDN in front.
var Storable = []string{"Cache-Control", "Content-Disposition", "Content-Encoding", "Content-Language", "Content-Type"}

// PutObject stores data under key with the headers h names (only those in Storable), and
// returns the object's ETag. The upload carries its MD5, so the provider refuses a body
// damaged on the way.
func (s *Store) PutObject(ctx context.Context, key string, data []byte, h http.Header) (etag string, err error) {
	full, err := s.full(key)
	if err != nil {
		return "", err
	}
	sum := md5.Sum(data)
	in := &s3.PutObjectInput{
		Bucket:        aws.String(s.loc.Bucket),
		Key:           aws.String(full),
		Body:          bytes.NewReader(data),
		ContentLength: aws.Int64(int64(len(data))),
		ContentMD5:    aws.String(base64.StdEncoding.EncodeToString(sum[:])),
	}
	for name, v := range h {
		if len(v) == 0 {
			continue
		}
		val := aws.String(v[0])
		switch http.CanonicalHeaderKey(name) {
		case "Cache-Control":
			in.CacheControl = val
		case "Content-Disposition":
			in.ContentDisposition = val
		case "Content-Encoding":
			in.ContentEncoding = val
		case "Content-Language":
			in.ContentLanguage = val
		case "Content-Type":
			in.ContentType = val
		default:
			return "", fmt.Errorf("%s: put %s: an object cannot keep the header %s", s.loc, key, name)
		}
	}
	out, err := s.client.PutObject(ctx, in)
	if err != nil {
		return "", s.fail("put", key, err)
	}
	return NormalETag(aws.ToString(out.ETag)), nil
}

// GetObject returns the data under key and the headers stored with it (those of Storable,
// and ETag), or blob.ErrNotFound.
func (s *Store) GetObject(ctx context.Context, key string) ([]byte, http.Header, error) {
	full, err := s.full(key)
	if err != nil {
		return nil, nil, err
	}
	out, err := s.client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(s.loc.Bucket), Key: aws.String(full)})
	if err != nil {
		if isNotFound(err) {
			return nil, nil, blob.ErrNotFound
		}
		return nil, nil, s.fail("get", key, err)
	}
	defer out.Body.Close()
	data, err := io.ReadAll(out.Body)
	if err != nil {
		return nil, nil, s.fail("get", key, err)
	}
	h := http.Header{}
	for name, v := range map[string]*string{
		"Cache-Control": out.CacheControl, "Content-Disposition": out.ContentDisposition,
		"Content-Encoding": out.ContentEncoding, "Content-Language": out.ContentLanguage,
		"Content-Type": out.ContentType, "Etag": out.ETag,
	} {
		if v != nil && *v != "" {
			h.Set(name, *v)
		}
	}
	return data, h, nil
}

// DeleteObject removes key; a missing key is not an error.
func (s *Store) DeleteObject(ctx context.Context, key string) error {
	full, err := s.full(key)
	if err != nil {
		return err
	}
	_, err = s.client.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(s.loc.Bucket), Key: aws.String(full)})
	if err != nil && !isNotFound(err) {
		return s.fail("delete", key, err)
	}
	return nil
}

// Walk calls fn with each object under the prefix: its key relative to the prefix and its
// ETag, in key order. It stops at fn's first error and returns it.
func (s *Store) Walk(ctx context.Context, fn func(key, etag string) error) error {
	prefix := ""
	if s.loc.Prefix != "" {
		prefix = s.loc.Prefix + "/"
	}
	p := s3.NewListObjectsV2Paginator(s.client, &s3.ListObjectsV2Input{Bucket: aws.String(s.loc.Bucket), Prefix: aws.String(prefix)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return s.fail("list", prefix, err)
		}
		for _, o := range page.Contents {
			key := strings.TrimPrefix(aws.ToString(o.Key), prefix)
			if key == "" || strings.HasSuffix(key, "/") {
				continue // a folder marker some tools make
			}
			if err := fn(key, NormalETag(aws.ToString(o.ETag))); err != nil {
				return err
			}
		}
	}
	return nil
}

// NormalETag drops an ETag's quotes and weak marker and lower-cases it, since providers
// differ in how they write the same one.
func NormalETag(etag string) string {
	etag = strings.TrimPrefix(strings.TrimSpace(etag), "W/")
	return strings.ToLower(strings.Trim(etag, `"`))
}
