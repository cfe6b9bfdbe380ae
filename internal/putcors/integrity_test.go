package putcors

import (
	"encoding/base64"
	"encoding/hex"
	"net/http"
	"testing"
)

// TestVerifyIntegrityAlgorithms checks every x-amz-checksum-* algorithm
// VerifyIntegrity knows (the conformance cases send crc32 only) against
// the published check values of "123456789": the header name each is read
// from, its digest size and its polynomial. A right value is accepted, a
// wrong one is BadDigest, one of the wrong size InvalidRequest.
func TestVerifyIntegrityAlgorithms(t *testing.T) {
	body := []byte("123456789")
	tests := []struct {
		header, check, upper string
	}{
		{"x-amz-checksum-crc32", "cbf43926", "CRC32"},
		{"x-amz-checksum-crc32c", "e3069283", "CRC32C"},
		{"x-amz-checksum-crc64nvme", "ae8b14860a799888", "CRC64NVME"},
		{"x-amz-checksum-sha1", "f7c3bc1d808e04732adf679965ccc34ca7ae3441", "SHA1"},
		{"x-amz-checksum-sha256", "15e2b0d3c33891ebb0f1ef609ec419420c20e320ce94c65fbc8c3312448eb225", "SHA256"},
	}
	for _, tt := range tests {
		t.Run(tt.header, func(t *testing.T) {
			raw, err := hex.DecodeString(tt.check)
			if err != nil {
				t.Fatal(err)
			}
			header := func(value []byte) http.Header {
				h := http.Header{}
				h.Set(tt.header, base64.StdEncoding.EncodeToString(value))
				return h
			}
			if err := VerifyIntegrity(header(raw), body); err != nil {
				t.Errorf("right value refused: %v", err)
			}
			wrong := append([]byte(nil), raw...)
			wrong[0] ^= 0xff
			e := VerifyIntegrity(header(wrong), body)
			if e == nil || e.Code != "BadDigest" ||
				e.Message != "The "+tt.upper+" you specified did not match the calculated checksum." {
				t.Errorf("wrong value: %v", e)
			}
			e = VerifyIntegrity(header(raw[1:]), body)
			if e == nil || e.Code != "InvalidRequest" ||
				e.Message != "Value for "+tt.header+" header is invalid." {
				t.Errorf("short value: %v", e)
			}
		})
	}
}
