package store

import "bytes"

// The compact form of a stored configuration: its XML with each of the
// fixed strings of the PutBucketCors document (the declaration, the
// elements' tags) replaced by one control byte. A configuration is mostly
// tags (a three-rule document of 984 bytes holds about 200 bytes of
// values), and a node with 100,000 buckets keeps every one of them in
// memory until it is first used; the compact form is about a quarter of the
// XML, and is made and undone in one pass with no parsing.
//
// XML 1.0 forbids the bytes 0x01-0x08, 0x0B, 0x0C and 0x0E-0x1F in a
// document, so they never occur in a valid configuration: those bytes code
// the strings of compactCodes. A stored value that holds one anyway (a
// corrupt key) is kept as it is, behind rawMark, so that expanding always
// gives back the very bytes that were read and the parser reports the
// error.

// rawMark ("\x01") starts a compact form that is the stored bytes
// unchanged.
const rawMark = 0x01

// compactCodes are the strings coded by the bytes 0x02 upwards, skipping
// tab, line feed and carriage return (which XML allows). Longer strings
// come first where one is a prefix of another.
var compactCodes = []string{
	`<?xml version="1.0" encoding="UTF-8"?>`,
	`<CORSConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/">`,
	"<CORSConfiguration>", "</CORSConfiguration>",
	"<CORSRule>", "</CORSRule>",
	"<AllowedHeader>", "</AllowedHeader>",
	"<AllowedMethod>", "</AllowedMethod>",
	"<AllowedOrigin>", "</AllowedOrigin>",
	"<ExposeHeader>", "</ExposeHeader>",
	"<ID>", "</ID>",
	"<MaxAgeSeconds>", "</MaxAgeSeconds>",
}

// codeBytes[i] is the byte that codes compactCodes[i]; decode is the
// reverse mapping.
var (
	codeBytes []byte
	decode    [0x20]string
)

func init() {
	b := byte(rawMark + 1)
	for _, s := range compactCodes {
		for b == '\t' || b == '\n' || b == '\r' {
			b++
		}
		if b >= 0x20 {
			panic("store: too many compact codes")
		}
		codeBytes = append(codeBytes, b)
		decode[b] = s
		b++
	}
}

// isCodeByte reports whether c is a byte XML forbids, which the compact
// form uses.
func isCodeByte(c byte) bool {
	return c < 0x20 && c != '\t' && c != '\n' && c != '\r'
}

// compact returns the compact form of a stored configuration.
func compact(xml []byte) string {
	for _, c := range xml {
		if isCodeByte(c) {
			return "\x01" + string(xml)
		}
	}
	// Built in a scratch buffer, then copied once at its exact size: the
	// string lives as long as the configuration, spare capacity with it.
	var scratch [1024]byte
	b := scratch[:0]
	for len(xml) > 0 {
		i := bytes.IndexByte(xml, '<')
		if i < 0 {
			b = append(b, xml...)
			break
		}
		b = append(b, xml[:i]...)
		xml = xml[i:]
		coded := false
		for j, s := range compactCodes {
			if len(xml) >= len(s) && string(xml[:len(s)]) == s {
				b = append(b, codeBytes[j])
				xml = xml[len(s):]
				coded = true
				break
			}
		}
		if !coded {
			b = append(b, '<')
			xml = xml[1:]
		}
	}
	return string(b)
}

// expand returns the stored bytes a compact form was made from.
func expand(c string) []byte {
	if len(c) > 0 && c[0] == rawMark {
		return []byte(c[1:])
	}
	n := len(c)
	for i := range len(c) {
		if c[i] < 0x20 {
			n += len(decode[c[i]])
		}
	}
	b := make([]byte, 0, n)
	for i := range len(c) {
		if c[i] < 0x20 && decode[c[i]] != "" {
			b = append(b, decode[c[i]]...)
		} else {
			b = append(b, c[i])
		}
	}
	return b
}
