package s3cors

import "strings"

// ValidBucketName reports whether name follows S3's bucket naming rules: 3 to
// 63 characters of lower-case letters, digits, '.' and '-', starting and
// ending with a letter or digit, without two adjacent periods, and not
// formatted as an IPv4 address
// (https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html).
//
// AWS additionally reserves some prefixes and suffixes (xn--, sthree-,
// -s3alias, ...) for bucket creation. They are accepted here on purpose: the
// store in front of which this module runs (MinIO, Ceph) may already have
// buckets so named, and refusing them would leave those buckets without a way
// to get a CORS configuration. What matters here is that the name is safe as
// a storage key: no '/', no '..', no upper case or encoded characters.
func ValidBucketName(name string) bool {
	if len(name) < 3 || len(name) > 63 {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9':
		case c == '.' || c == '-':
			if i == 0 || i == len(name)-1 {
				return false
			}
		default:
			return false
		}
	}
	if strings.Contains(name, "..") {
		return false
	}
	return !looksLikeIPv4(name)
}

// looksLikeIPv4 reports whether name is four dot-separated groups of digits.
// Any such name is refused, including ones net/netip would not parse (leading
// zeros, groups over 255), since S3 refuses names "formatted as" an address.
func looksLikeIPv4(name string) bool {
	groups := strings.Split(name, ".")
	if len(groups) != 4 {
		return false
	}
	for _, g := range groups {
		if g == "" || strings.Trim(g, "0123456789") != "" {
			return false
		}
	}
	return true
}
