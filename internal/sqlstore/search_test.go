package sqlstore

import (
	"slices"
	"testing"
)

func TestImpliedWordsDropped(t *testing.T) {
	for _, c := range []struct{ in, want []string }{
		{[]string{"mar", "mari"}, []string{"mari"}},
		{[]string{"mari", "mar"}, []string{"mari"}},
		{[]string{"luc", "de", "l"}, []string{"luc", "de"}},
		{[]string{"mar", "ros"}, []string{"mar", "ros"}},
		{[]string{"ros", "ros"}, []string{"ros"}},
		{[]string{"a", "ab", "abc", "b"}, []string{"abc", "b"}},
		{[]string{"example"}, []string{"example"}},
	} {
		if got := impliedWordsDropped(c.in); !slices.Equal(got, c.want) {
			t.Errorf("impliedWordsDropped(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}
