package testenv

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/minio/madmin-go/v3"
	"github.com/minio/minio-go/v7/pkg/credentials"
)

// AddUser creates a MinIO user with MinIO's admin API and, when policy is
// not empty, a canned policy named after the user holding that IAM policy
// document, attached to the user. A user without a policy may do nothing.
// A failure ends the test.
func (m *MinIO) AddUser(t testing.TB, accessKey, secretKey, policy string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	adm, err := madmin.NewWithOptions(m.Endpoint, &madmin.Options{Creds: credentials.NewStaticV4(m.AccessKey, m.SecretKey, "")})
	if err != nil {
		t.Fatalf("minio admin client: %v", err)
	}
	if err := adm.AddUser(ctx, accessKey, secretKey); err != nil {
		t.Fatalf("minio: add user %s: %v", accessKey, err)
	}
	if policy == "" {
		return
	}
	name := "policy-" + accessKey
	if err := adm.AddCannedPolicy(ctx, name, []byte(policy)); err != nil {
		t.Fatalf("minio: add policy %s: %v\n%s", name, err, policy)
	}
	if _, err := adm.AttachPolicy(ctx, madmin.PolicyAssociationReq{Policies: []string{name}, User: accessKey}); err != nil {
		t.Fatalf("minio: attach policy %s to %s: %v", name, accessKey, err)
	}
}

// BucketPolicy is an IAM policy document that allows actions (MinIO's
// spelling, such as s3:PutBucketCors) on the buckets named.
func BucketPolicy(actions []string, buckets ...string) string {
	resources := make([]string, 0, len(buckets))
	for _, b := range buckets {
		resources = append(resources, "arn:aws:s3:::"+b)
	}
	doc := map[string]any{
		"Version": "2012-10-17",
		"Statement": []map[string]any{{
			"Effect":   "Allow",
			"Action":   actions,
			"Resource": resources,
		}},
	}
	b, _ := json.Marshal(doc) // maps of strings always marshal
	return string(b)
}
