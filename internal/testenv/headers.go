package testenv

import "maps"

// With returns a copy of the expected header values m with the name/value
// pairs of kv set, so that a table case states only how it differs.
func With(m map[string]string, kv ...string) map[string]string {
	out := maps.Clone(m)
	if out == nil {
		out = make(map[string]string, len(kv)/2)
	}
	for i := 0; i+1 < len(kv); i += 2 {
		out[kv[i]] = kv[i+1]
	}
	return out
}
