package sigv4

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/s3cors/caddy-s3cors/internal/s3err"
)

const (
	// maxLine bounds a chunk header or trailer line, CRLF included.
	maxLine = 4096
	// maxTrailers bounds the number of trailing headers.
	maxTrailers = 16

	chunkSignature   = ";chunk-signature="
	trailerSignature = "x-amz-trailer-signature:"
	chunkAlgorithm   = "AWS4-HMAC-SHA256-PAYLOAD"
	trailerAlgorithm = "AWS4-HMAC-SHA256-TRAILER"
)

// chunkReader decodes an aws-chunked body:
//
//	<hex size>;chunk-signature=<sig>\r\n<data>\r\n ... 0;chunk-signature=<sig>\r\n
//
// then, for the trailer variants, "name:value\r\n" lines, the
// "x-amz-trailer-signature:<sig>\r\n" line when signed, and a final
// "\r\n". Unsigned chunks carry no ";chunk-signature=".
type chunkReader struct {
	kind    payloadKind
	key     []byte // the signing key, for signed chunks
	prevSig string // the seed signature, then each chunk's
	prefix  string // "<amz date>\n<scope>\n" of every chunk's string to sign
	access  string // the access key, for error documents
}

func (c *chunkReader) signed() bool {
	return c.kind == payloadStreaming || c.kind == payloadStreamingTrailer
}

func (c *chunkReader) trailer() bool {
	return c.kind == payloadStreamingTrailer || c.kind == payloadUnsignedTrailer
}

// decode reads the chunks into res.Body (at most limit bytes of data) and
// the trailing headers into res.Trailer, checking every signature, the
// framing and x-amz-decoded-content-length.
func (c *chunkReader) decode(r *http.Request, limit int64, res *Result) error {
	declared, err := strconv.ParseInt(r.Header.Get("X-Amz-Decoded-Content-Length"), 10, 64)
	if err != nil || declared < 0 {
		return errMissingContentLength()
	}
	var src io.Reader = http.NoBody
	if r.Body != nil {
		src = r.Body
	}
	br := bufio.NewReaderSize(src, maxLine)
	body := make([]byte, 0, min(declared, limit))
	var total int64
	for {
		line, err := readLine(br)
		if errors.Is(err, io.EOF) {
			return s3err.IncompleteBody()
		}
		if err != nil {
			return err
		}
		size, sig, serr := c.parseChunkHeader(line)
		if serr != nil {
			return serr
		}
		if size > declared-total {
			return s3err.IncompleteBody()
		}
		if size == 0 {
			if c.signed() {
				if err := c.verifyChunk(sig, nil); err != nil {
					return err
				}
			}
			break
		}
		if room := limit - int64(len(body)); size > room {
			start := len(body)
			body = slices.Grow(body, int(room))[:start+int(room)]
			if _, err := io.ReadFull(br, body[start:]); err != nil {
				return bodyError(err)
			}
			res.Body, res.Truncated = body, true
			return nil
		}
		start := len(body)
		body = slices.Grow(body, int(size))[:start+int(size)]
		if _, err := io.ReadFull(br, body[start:]); err != nil {
			return bodyError(err)
		}
		if err := readCRLF(br); err != nil {
			return err
		}
		if c.signed() {
			if err := c.verifyChunk(sig, body[start:]); err != nil {
				return err
			}
		}
		total += size
	}
	if total != declared {
		return s3err.IncompleteBody()
	}
	res.Body = body
	if c.trailer() {
		return c.readTrailer(r, br, res)
	}
	// The final CRLF after the last chunk; a body that simply ends is
	// accepted too.
	line, err := readLine(br)
	if errors.Is(err, io.EOF) && line == "" {
		return nil
	}
	if err != nil {
		return err
	}
	if line != "" {
		return s3err.IncompleteBody()
	}
	return nil
}

// parseChunkHeader parses "<hex size>;chunk-signature=<sig>" (signed) or
// "<hex size>[;extensions]" (unsigned).
func (c *chunkReader) parseChunkHeader(line string) (int64, string, error) {
	sizeHex, ext, hasExt := strings.Cut(line, ";")
	if sizeHex == "" || len(sizeHex) > 16 {
		return 0, "", s3err.IncompleteBody()
	}
	size, err := strconv.ParseInt(sizeHex, 16, 64)
	if err != nil || size < 0 || strings.HasPrefix(sizeHex, "+") || strings.HasPrefix(sizeHex, "-") {
		return 0, "", s3err.IncompleteBody()
	}
	if !c.signed() {
		return size, "", nil
	}
	if !hasExt || !strings.HasPrefix(";"+ext, chunkSignature) {
		return 0, "", s3err.IncompleteBody()
	}
	return size, ext[len(chunkSignature)-1:], nil
}

// verifyChunk checks one chunk's signature, chained to the previous one.
func (c *chunkReader) verifyChunk(provided string, data []byte) error {
	sum := sha256.Sum256(data)
	sts := chunkAlgorithm + "\n" + c.prefix + c.prevSig + "\n" + EmptyPayload + "\n" + hex.EncodeToString(sum[:])
	want := sign(c.key, sts)
	if !equalSignatures(want, provided) {
		return errSignatureMismatch(c.access, sts, provided, "")
	}
	c.prevSig = want
	return nil
}

// readTrailer reads the trailing headers, each of which x-amz-trailer must
// have announced, and for the signed variant checks x-amz-trailer-signature.
func (c *chunkReader) readTrailer(r *http.Request, br *bufio.Reader, res *Result) error {
	var declared []string
	for _, v := range r.Header.Values("X-Amz-Trailer") {
		for name := range strings.SplitSeq(v, ",") {
			if name = strings.ToLower(strings.TrimSpace(name)); name != "" {
				declared = append(declared, name)
			}
		}
	}
	var canonical strings.Builder
	var provided string
	signedDone := false
	trailer := make(http.Header)
	for n := 0; ; n++ {
		line, err := readLine(br)
		if errors.Is(err, io.EOF) && line == "" && (!c.signed() || signedDone) {
			break // the final CRLF is missing: accepted
		}
		if errors.Is(err, io.EOF) {
			return s3err.IncompleteBody()
		}
		if err != nil {
			return err
		}
		if line == "" {
			if c.signed() && !signedDone {
				return errMalformedTrailer()
			}
			break
		}
		if signedDone || n >= maxTrailers {
			return errMalformedTrailer()
		}
		if c.signed() && strings.HasPrefix(line, trailerSignature) {
			provided = line[len(trailerSignature):]
			signedDone = true
			continue
		}
		name, value, ok := strings.Cut(line, ":")
		name = strings.ToLower(strings.TrimSpace(name))
		value = strings.TrimSpace(value)
		if !ok || name == "" || value == "" || !slices.Contains(declared, name) || trailer.Get(name) != "" {
			return errMalformedTrailer()
		}
		trailer.Set(name, value)
		canonical.WriteString(name + ":" + value + "\n")
	}
	for _, name := range declared {
		if trailer.Get(name) == "" {
			return errMalformedTrailer()
		}
	}
	if c.signed() {
		sum := sha256.Sum256([]byte(canonical.String()))
		sts := trailerAlgorithm + "\n" + c.prefix + c.prevSig + "\n" + hex.EncodeToString(sum[:])
		if !equalSignatures(sign(c.key, sts), provided) {
			return errSignatureMismatch(c.access, sts, provided, "")
		}
	}
	if len(trailer) > 0 {
		res.Trailer = trailer
	}
	return nil
}

// readLine reads one CRLF-terminated line of at most maxLine bytes and
// returns it without the CRLF. At the very end of the body it returns
// io.EOF and an empty line; any other failure is an S3 error, or a wrapped
// read error.
func readLine(br *bufio.Reader) (string, error) {
	b, err := br.ReadSlice('\n')
	switch {
	case err == nil:
	case errors.Is(err, io.EOF) && len(b) == 0:
		return "", io.EOF
	case errors.Is(err, io.EOF), errors.Is(err, bufio.ErrBufferFull):
		return "", s3err.IncompleteBody()
	default:
		return "", fmt.Errorf("sigv4: read body: %w", err)
	}
	if len(b) < 2 || b[len(b)-2] != '\r' {
		return "", s3err.IncompleteBody()
	}
	return string(b[:len(b)-2]), nil
}

func readCRLF(br *bufio.Reader) error {
	var crlf [2]byte
	if _, err := io.ReadFull(br, crlf[:]); err != nil {
		return bodyError(err)
	}
	if crlf != [2]byte{'\r', '\n'} {
		return s3err.IncompleteBody()
	}
	return nil
}

// bodyError turns a premature end of the body into IncompleteBody.
func bodyError(err error) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return s3err.IncompleteBody()
	}
	return fmt.Errorf("sigv4: read body: %w", err)
}
