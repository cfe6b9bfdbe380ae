package s3cors

import (
	"strings"
	"testing"
)

func TestValidBucketName(t *testing.T) {
	tests := []struct {
		name     string
		bucket   string
		want     bool
		storable bool // StorableBucketName; ignored when want is true
	}{
		{"simple", "photos", true, false},
		{"digits and dashes", "my-bucket-2024", true, false},
		{"dots", "www.example.com", true, false},
		{"three chars", "abc", true, false},
		{"63 chars", strings.Repeat("a", 63), true, false},
		{"starts with digit", "1bucket", true, false},
		{"three digit groups is not an address", "192.168.5", true, false},
		{"five digit groups is not an address", "1.2.3.4.5", true, false},
		{"empty", "", false, false},
		{"two chars", "ab", false, false},
		{"64 chars", strings.Repeat("a", 64), false, false},
		{"upper case", "Photos", false, false},
		{"underscore", "my_bucket", false, false},
		{"slash", "a/b", false, false},
		{"traversal", "../../x", false, false},
		{"double dot", "my..bucket", false, false},
		{"dot dot alone", "..", false, false},
		{"encoded slash", "a%2Fb", false, false},
		{"encoded traversal", "..%2F..%2Fx", false, false},
		{"leading dot", ".bucket", false, false},
		{"trailing dot", "bucket.", false, false},
		{"leading dash", "-bucket", false, false},
		{"trailing dash", "bucket-", false, false},
		{"ip address", "192.168.5.4", false, false},
		{"ip-like with leading zeros", "010.001.000.001", false, false},
		{"ip-like out of range", "999.999.999.999", false, false},
		{"space", "my bucket", false, false},
		{"nul byte", "abc\x00", false, false},
		{"backslash", `a\b`, false, false},
		{"non-ascii", "bücket", false, false},
		{"key suffix injection", "a.xml/../b", false, false},
		{"dots and dashes", "my.bucket-1", true, false},
		{"digits at both ends", "1bucket9", true, false},
		{"underscore inside", "a_b", false, false},
		{"double dot inside", "a..b", false, false},
		{"leading dot, short", ".abc", false, false},
		{"trailing dot, short", "abc.", false, false},
		{"leading dash, short", "-abc", false, false},
		{"trailing dash, short", "abc-", false, false},
		{"non-ascii first letter", "ábc", false, false},
		// Reserved by S3: refused for ?cors, but storable, so that keys
		// written before are still read.
		{"xn-- prefix", "xn--bucket", false, true},
		{"xn-- alone with a letter", "xn--a", false, true},
		{"sthree- prefix", "sthree-bucket", false, true},
		{"sthree-configurator", "sthree-configurator", false, true},
		{"amzn-s3-demo- prefix", "amzn-s3-demo-bucket", false, true},
		{"-s3alias suffix", "bucket-s3alias", false, true},
		{"--ol-s3 suffix", "bucket--ol-s3", false, true},
		{".mrap suffix", "bucket.mrap", false, true},
		{"--x-s3 suffix", "bucket--usw2-az1--x-s3", false, true},
		{"--table-s3 suffix", "bucket--table-s3", false, true},
		{"xn- with one dash", "xn-bucket", true, true},
		{"xn-- inside", "a-xn--bucket", true, true},
		{"sthree without dash", "sthreebucket", true, true},
		{"s3alias without dash", "buckets3alias", true, true},
		{"-s3alias inside", "a-s3alias-b", true, true},
		{"ol-s3 with one dash", "bucket-ol-s3", true, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ValidBucketName(tt.bucket); got != tt.want {
				t.Errorf("ValidBucketName(%q) = %v, want %v", tt.bucket, got, tt.want)
			}
			if got, want := StorableBucketName(tt.bucket), tt.want || tt.storable; got != want {
				t.Errorf("StorableBucketName(%q) = %v, want %v", tt.bucket, got, want)
			}
		})
	}
}
