package s3cors

import (
	"strings"
	"unsafe"
)

// MaxRequestHeadersLength bounds the Access-Control-Request-Headers value
// the engine evaluates: 8 KiB, S3's limit for a whole header section. A
// longer value is a bad preflight (RequestHeaderSectionTooLarge) and
// matches no rule on an actual request, so hostile input costs bounded
// work.
const MaxRequestHeadersLength = 8 << 10

// requestHeaders is a parsed Access-Control-Request-Headers: the items,
// split on commas over every header line, trimmed of spaces and tabs, empty
// ones dropped. The first items live in an inline array so that the usual
// short list allocates nothing.
type requestHeaders struct {
	lines    []string
	n        int
	inline   [8]headerItem
	overflow []headerItem
	tooLarge bool
	// normalized: a single line already in the response's form
	// (lower case, items joined by ", "), which can be echoed as it is.
	normalized bool
}

type headerItem struct {
	name string
	hash uint64
}

// parse fills h from the header's lines. Several lines
// are one comma-separated list, as HTTP defines for list-valued headers.
func (h *requestHeaders) parse(lines []string) {
	h.lines = lines
	total := 0
	for _, l := range lines {
		total += len(l)
	}
	if total > MaxRequestHeadersLength {
		h.tooLarge = true
		return
	}
	h.normalized = len(lines) == 1
	for _, line := range lines {
		start := 0
		for i := 0; i <= len(line); i++ {
			if i < len(line) && line[i] != ',' {
				continue
			}
			raw := line[start:i]
			item := strings.Trim(raw, " \t")
			if h.normalized && !itemIsNormalized(raw, item, start == 0) {
				h.normalized = false
			}
			if item != "" {
				h.add(headerItem{name: item, hash: foldHash(item)})
			}
			start = i + 1
		}
	}
	if h.n == 0 {
		h.normalized = false
	}
}

// itemIsNormalized reports whether raw is exactly how the response writes
// the item: lower case, no surrounding space except the one after a comma.
func itemIsNormalized(raw, item string, first bool) bool {
	if item == "" {
		return false
	}
	want := len(item)
	if !first {
		want++
		if raw[0] != ' ' {
			return false
		}
	}
	if len(raw) != want {
		return false
	}
	for i := 0; i < len(item); i++ {
		if 'A' <= item[i] && item[i] <= 'Z' {
			return false
		}
	}
	return true
}

func (h *requestHeaders) add(it headerItem) {
	if h.n < len(h.inline) {
		h.inline[h.n] = it
	} else {
		if h.overflow == nil {
			h.overflow = make([]headerItem, 0, 2*len(h.inline))
			h.overflow = append(h.overflow, h.inline[:]...)
		}
		h.overflow = append(h.overflow, it)
	}
	h.n++
}

// present reports whether the request names at least one header. A value
// made of commas and spaces only names none and counts as absent.
// A nil list is a request without the header.
func (h *requestHeaders) present() bool { return h != nil && h.n > 0 }

func (h *requestHeaders) item(i int) headerItem {
	if h.overflow != nil {
		return h.overflow[i]
	}
	return h.inline[i]
}

// allowedBy reports whether every requested header matches the set; a
// nil list (no header requested) is allowed by every set.
func (h *requestHeaders) allowedBy(s *headerSet) bool {
	if h == nil {
		return true
	}
	if h.tooLarge {
		return false
	}
	if s.all {
		return true
	}
	for i := 0; i < h.n; i++ {
		it := h.item(i)
		if !s.allows(it.name, it.hash) {
			return false
		}
	}
	return true
}

// allowHeaders is the Access-Control-Allow-Headers value: the items,
// lower-cased, in request order, joined by ", ". A request already in that
// form is echoed as the same slice, which nobody modifies. Otherwise the
// value is built in one allocation when it is short (see allowHeadersBlock).
func (h *requestHeaders) allowHeaders() []string {
	if h.normalized {
		return h.lines
	}
	size := 0
	for i := 0; i < h.n; i++ {
		size += len(h.item(i).name) + 2
	}
	size -= 2
	var buf []byte
	var block *allowHeadersBlock
	if size <= len(block.buf) {
		block = new(allowHeadersBlock)
		buf = block.buf[:0:size]
	} else {
		buf = make([]byte, 0, size)
	}
	for i := 0; i < h.n; i++ {
		if i > 0 {
			buf = append(buf, ", "...)
		}
		name := h.item(i).name
		for j := 0; j < len(name); j++ {
			c := name[j]
			if 'A' <= c && c <= 'Z' {
				c += 'a' - 'A'
			}
			buf = append(buf, c)
		}
	}
	// The bytes are never written again, as in strings.Builder.
	value := unsafe.String(unsafe.SliceData(buf), len(buf))
	if block == nil {
		return []string{value}
	}
	block.value[0] = value
	return block.value[:]
}

// allowHeadersBlock holds a short Access-Control-Allow-Headers value and
// the one-line slice the response header map takes, so that the echo
// costs one allocation instead of two (the value and the slice). 120
// bytes take a browser's usual list, such as an SDK upload's
// "content-type, x-amz-date, x-amz-content-sha256, authorization,
// x-amz-user-agent, amz-sdk-invocation-id, amz-sdk-request"; the block is
// 136 bytes, within the 144-byte size class.
type allowHeadersBlock struct {
	value [1]string
	buf   [120]byte
}
