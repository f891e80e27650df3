package ijson_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/chatsphere/bots/internal/ijson"
)

func TestLoneSurrogate(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		rule string
		raw  string
		lone bool
	}{
		{"APairIsNotLone", `"\ud83d\ude00"`, false},
		{"AHighSurrogateAloneIsLone", `"a\ud800b"`, true},
		{"AHighSurrogateAtTheEndIsLone", `"\ud800"`, true},
		{"ALowSurrogateAloneIsLone", `"\udc00"`, true},
		{"TwoHighSurrogatesAreLone", `"\ud800\ud800\udc00"`, true},
		{"AHighSurrogateBeforeAnotherEscapeIsLone", `"\ud800\n"`, true},
		{"AnEscapedBackslashBeforeUIsNoEscape", `"\\ud800"`, false},
		{"OtherEscapesAreNotSurrogates", `{"a":"\u00e9\t\"\/"}`, false},
		{"ReplacementCharacterIsNotASurrogate", `"\ufffd"`, false},
		{"AnywhereInADocument", `{"name":"ok","description":"x\udfff"}`, true},
	} {
		t.Run(tc.rule, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tc.lone, ijson.LoneSurrogate([]byte(tc.raw)))
		})
	}
}
