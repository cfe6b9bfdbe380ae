package caddys3cors

import (
	"encoding/json"
	"testing"
)

func TestStaticSets(t *testing.T) {
	const (
		assets = `{"CORSRules":[{"AllowedOrigins":["https://www.example.com"],"AllowedMethods":["GET"]}]}`
		other  = `{"CORSRules":[{"AllowedOrigins":["*"],"AllowedMethods":["GET"]}]}`
	)
	source := func(def string, buckets map[string]string) *Source {
		s := &Source{Default: json.RawMessage(def)}
		if len(buckets) > 0 {
			s.Buckets = map[string]json.RawMessage{}
			for b, doc := range buckets {
				s.Buckets[b] = json.RawMessage(doc)
			}
		}
		if err := s.compile(); err != nil {
			t.Fatal(err)
		}
		return s
	}
	tests := []struct {
		name    string
		sources []*Source
		want    []string // the static bucket names of each set, "" for a default-only set
		hasDef  []bool
	}{
		{name: "nothing static", sources: []*Source{source("", nil)}},
		{name: "one handler", sources: []*Source{source(other, map[string]string{"assets": assets})},
			want: []string{"assets"}, hasDef: []bool{true}},
		{name: "a matcher repeating its handler", sources: []*Source{
			source(other, map[string]string{"assets": assets}), source(other, map[string]string{"assets": assets})},
			want: []string{"assets"}, hasDef: []bool{true}},
		{name: "two handlers, in a stable order", sources: []*Source{
			source("", map[string]string{"zeta": assets}), source(other, map[string]string{"alpha": assets})},
			want: []string{"alpha", "zeta"}, hasDef: []bool{true, false}},
		{name: "same buckets, other configuration", sources: []*Source{
			source("", map[string]string{"assets": assets}), source("", map[string]string{"assets": other})},
			want: []string{"assets", "assets"}, hasDef: []bool{false, false}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := &App{}
			for _, s := range tt.sources {
				a.statics.add(s)
			}
			sets := a.StaticSets()
			if len(sets) != len(tt.want) {
				t.Fatalf("%d sets, want %d: %+v", len(sets), len(tt.want), sets)
			}
			for i, set := range sets {
				if _, ok := set.Buckets[tt.want[i]]; !ok || len(set.Buckets) != 1 {
					t.Errorf("set %d: buckets %v, want %s", i, set.Buckets, tt.want[i])
				}
				if (set.Default != nil) != tt.hasDef[i] {
					t.Errorf("set %d: default %v, want %v", i, set.Default, tt.hasDef[i])
				}
			}
		})
	}
}
