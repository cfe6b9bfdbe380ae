package caddys3cors

import "testing"

// TestNoSubresource checks which bucket requests are on the bucket itself
// (DeleteBucket, CreateBucket) and which on a subresource.
func TestNoSubresource(t *testing.T) {
	tests := []struct {
		name, query string
		want        bool
	}{
		{"none", "", true},
		{"the SDK's x-id", "x-id=DeleteBucket", true},
		{"presigned", "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=k&X-Amz-Signature=s", true},
		{"cors", "cors", false},
		{"cors among others", "x-id=DeleteBucketCors&cors=", false},
		{"policy", "policy", false},
		{"tagging", "tagging=", false},
		{"empty parts", "&&", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := noSubresource(tt.query); got != tt.want {
				t.Errorf("noSubresource(%q) = %v, want %v", tt.query, got, tt.want)
			}
		})
	}
}
