package s3cors

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"strconv"

	"github.com/s3cors/caddy-s3cors/internal/s3err"
)

// MaxBodySize is the largest PutBucketCors body S3 accepts: 64 KiB.
const MaxBodySize = 64 << 10

// MaxRules is the largest number of rules in one configuration.
const MaxRules = 100

// Namespace is the S3 XML namespace, always written on output.
const Namespace = "http://s3.amazonaws.com/doc/2006-03-01/"

// Configuration is one bucket's CORS configuration, as PutBucketCors takes
// it and GetBucketCors returns it. Only ParseXML and ParseJSON make one, so
// every Configuration is valid. Values keep their order, case and empty
// strings exactly, so that a configuration round-trips.
type Configuration struct {
	// Rules are the CORS rules in document order; the first that matches
	// a request wins.
	Rules []Rule `json:"CORSRules"`
}

// Rule is one CORSRule.
type Rule struct {
	// ID is the optional rule identifier (at most 255 characters).
	ID *string `json:"ID,omitempty"`
	// AllowedHeaders are the header names a request may ask for in
	// Access-Control-Request-Headers; `*` alone allows any, one `*` in a
	// name is a wildcard. Compared case-insensitively.
	AllowedHeaders []string `json:"AllowedHeaders,omitempty"`
	// AllowedMethods are among GET, PUT, HEAD, POST and DELETE.
	AllowedMethods []string `json:"AllowedMethods"`
	// AllowedOrigins are the origins the rule admits; `*` alone admits
	// any, one `*` in an origin is a wildcard. Compared case-sensitively.
	AllowedOrigins []string `json:"AllowedOrigins"`
	// ExposeHeaders are sent in Access-Control-Expose-Headers.
	ExposeHeaders []string `json:"ExposeHeaders,omitempty"`
	// MaxAgeSeconds is sent in Access-Control-Max-Age when set.
	MaxAgeSeconds *int `json:"MaxAgeSeconds,omitempty"`
}

// XML returns the GetBucketCors body: the XML declaration and the
// namespaced CORSConfiguration, every value as it was put.
func (c *Configuration) XML() []byte {
	var b bytes.Buffer
	b.WriteString(xml.Header[:len(xml.Header)-1])
	b.WriteString(`<CORSConfiguration xmlns="` + Namespace + `">`)
	for _, r := range c.Rules {
		b.WriteString("<CORSRule>")
		for _, v := range r.AllowedHeaders {
			s3err.WriteElement(&b, "AllowedHeader", v)
		}
		for _, v := range r.AllowedMethods {
			s3err.WriteElement(&b, "AllowedMethod", v)
		}
		for _, v := range r.AllowedOrigins {
			s3err.WriteElement(&b, "AllowedOrigin", v)
		}
		for _, v := range r.ExposeHeaders {
			s3err.WriteElement(&b, "ExposeHeader", v)
		}
		if r.ID != nil {
			s3err.WriteElement(&b, "ID", *r.ID)
		}
		if r.MaxAgeSeconds != nil {
			s3err.WriteElement(&b, "MaxAgeSeconds", strconv.Itoa(*r.MaxAgeSeconds))
		}
		b.WriteString("</CORSRule>")
	}
	b.WriteString("</CORSConfiguration>")
	return b.Bytes()
}

// JSON returns the aws cli / SDK shape {"CORSRules": [...]}, as
// `aws s3api get-bucket-cors` prints it.
func (c *Configuration) JSON() []byte {
	out, err := json.Marshal(c)
	if err != nil {
		// Only strings, string slices and ints: marshalling cannot fail.
		panic("s3cors: marshal configuration: " + err.Error())
	}
	return out
}

// Equal reports whether two configurations hold the same rules and values.
func (c *Configuration) Equal(o *Configuration) bool {
	if c == nil || o == nil {
		return c == o
	}
	return bytes.Equal(c.XML(), o.XML())
}
