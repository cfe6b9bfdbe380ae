package s3cors

import (
	"strings"
	"testing"
)

func TestValidBucketName(t *testing.T) {
	tests := []struct {
		name   string
		bucket string
		want   bool
	}{
		{"simple", "photos", true},
		{"digits and dashes", "my-bucket-2024", true},
		{"dots", "www.example.com", true},
		{"three chars", "abc", true},
		{"63 chars", strings.Repeat("a", 63), true},
		{"starts with digit", "1bucket", true},
		{"xn-- prefix accepted (existing MinIO buckets)", "xn--bucket", true},
		{"three digit groups is not an address", "192.168.5", true},
		{"five digit groups is not an address", "1.2.3.4.5", true},
		{"empty", "", false},
		{"two chars", "ab", false},
		{"64 chars", strings.Repeat("a", 64), false},
		{"upper case", "Photos", false},
		{"underscore", "my_bucket", false},
		{"slash", "a/b", false},
		{"traversal", "../../x", false},
		{"double dot", "my..bucket", false},
		{"dot dot alone", "..", false},
		{"encoded slash", "a%2Fb", false},
		{"encoded traversal", "..%2F..%2Fx", false},
		{"leading dot", ".bucket", false},
		{"trailing dot", "bucket.", false},
		{"leading dash", "-bucket", false},
		{"trailing dash", "bucket-", false},
		{"ip address", "192.168.5.4", false},
		{"ip-like with leading zeros", "010.001.000.001", false},
		{"ip-like out of range", "999.999.999.999", false},
		{"space", "my bucket", false},
		{"nul byte", "abc\x00", false},
		{"backslash", `a\b`, false},
		{"non-ascii", "bücket", false},
		{"key suffix injection", "a.xml/../b", false},
		{"dots and dashes", "my.bucket-1", true},
		{"digits at both ends", "1bucket9", true},
		{"underscore inside", "a_b", false},
		{"double dot inside", "a..b", false},
		{"leading dot, short", ".abc", false},
		{"trailing dot, short", "abc.", false},
		{"leading dash, short", "-abc", false},
		{"trailing dash, short", "abc-", false},
		{"non-ascii first letter", "ábc", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ValidBucketName(tt.bucket); got != tt.want {
				t.Errorf("ValidBucketName(%q) = %v, want %v", tt.bucket, got, tt.want)
			}
		})
	}
}
