package httpapi

import (
	"bytes"
	"encoding/json"
	"regexp"
	"testing"

	"github.com/stretchr/testify/require"
)

// HTMLEscape is an HTML escape of encoding/json: \u003c, \u003e or \u0026 after a backslash
// that is not itself escaped. It is exported to the package's external tests, which check that
// no answer holds one.
var HTMLEscape = regexp.MustCompile(`(^|[^\\])(\\\\)*\\u00(3c|3e|26)`)

// However a JSON document is cut into writes, what goes out is the document encoding/json
// writes without HTML escaping.
func TestUnescapeHTMLAcrossWrites(t *testing.T) {
	t.Parallel()
	value := map[string]any{
		"html":       `<a href="?x=1&y=2">R&D</a>`,
		"backslash":  `\u003c stays text, \\u003e too, and a lone \ before <`,
		"escapes":    "tab\t, newline\n, quote \", line separator \u2028",
		"nested":     []any{"<", ">", "&", `\`, `\\`},
		`key <&>`:    1.5,
		"characters": "日本 <é> 😀",
	}
	escaped, err := json.Marshal(value)
	require.NoError(t, err)
	var want bytes.Buffer
	enc := json.NewEncoder(&want)
	enc.SetEscapeHTML(false)
	require.NoError(t, enc.Encode(value))
	wantText := bytes.TrimSuffix(want.Bytes(), []byte("\n"))
	require.NotEqual(t, string(escaped), string(wantText), "the value has nothing to unescape")

	for cut := 0; cut <= len(escaped); cut++ {
		out, open := unescapeHTML(nil, escaped[:cut], false)
		out, open = unescapeHTML(out, escaped[cut:], open)
		require.False(t, open)
		require.True(t, json.Valid(out), "cut at %d: %s", cut, out)
		var got map[string]any
		require.NoError(t, json.Unmarshal(out, &got))
		require.Equal(t, value, got, "cut at %d", cut)
		if !bytes.Equal(out, wantText) {
			// A cut inside an escape leaves that one escape as it was; nothing else differs.
			require.Len(t, HTMLEscape.FindAll(out, -1), 1, "cut at %d: %s", cut, out)
		}
	}
}
