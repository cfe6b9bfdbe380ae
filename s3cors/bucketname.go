package s3cors

import "strings"

// ValidBucketName reports whether name follows S3's rules for general
// purpose bucket names: 3 to 63 characters of lower-case letters, digits,
// '.' and '-', starting and ending with a letter or digit, without two
// adjacent periods, not formatted as an IPv4 address, and without a prefix
// or suffix that S3 reserves (see reservedBucketPrefixes and
// reservedBucketSuffixes). The APIs refuse any other name with S3's
// InvalidBucketName.
//
// [S3 bucket naming rules]: https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html
func ValidBucketName(name string) bool {
	return StorableBucketName(name) && !reservedBucketName(name)
}

// StorableBucketName reports whether name is safe as part of a storage key
// and follows S3's character rules: ValidBucketName without the reserved
// prefixes and suffixes. Storage reads and lists keys with such names, so
// that a configuration written before those names were refused keeps
// being served and can be seen; the APIs write none.
func StorableBucketName(name string) bool {
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

// The prefixes and suffixes S3 reserves in general purpose bucket names:
// punycode (xn--), S3's own (sthree-, amzn-s3-demo-), access point
// aliases (-s3alias), Object Lambda aliases (--ol-s3), Multi-Region
// Access Points (.mrap), directory buckets (--x-s3) and table buckets
// (--table-s3).
var (
	reservedBucketPrefixes = []string{"xn--", "sthree-", "amzn-s3-demo-"}
	reservedBucketSuffixes = []string{"-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3"}
)

// reservedBucketName reports whether name has a prefix or suffix S3
// reserves.
func reservedBucketName(name string) bool {
	for _, p := range reservedBucketPrefixes {
		if strings.HasPrefix(name, p) {
			return true
		}
	}
	for _, s := range reservedBucketSuffixes {
		if strings.HasSuffix(name, s) {
			return true
		}
	}
	return false
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
