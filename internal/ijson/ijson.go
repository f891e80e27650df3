// Package ijson holds the rules of I-JSON (RFC 7493) that a JSON parser lets through: a member
// name twice in one object (§2.3), where parsers disagree on which value wins, and Unicode
// noncharacters (§2.1) in member names and strings. \u escapes of lone UTF-16
// surrogates (§2.1), which decoders replace without a word. (UTF-8 itself is checked where
// the bytes are read.)
//
// The service refuses request bodies that break either rule (internal/httpapi), comparing
// member names exactly. The command line refuses an apply file in JSON with a member name
// twice, comparing names ignoring case as encoding/json matches them to fields, and refuses
// an imported text the service would refuse (internal/cli). Each caller words its own
// message from the typed errors.
package ijson

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode"
)

// DuplicateError is a member name that appears twice in one object.
type DuplicateError struct {
	// Path names the second member: the member names and array indices that lead to it,
	// its own name last.
	Path []string
	// First and Name are the two spellings of the name, in the order they appear; they
	// differ only when names are compared ignoring case.
	First, Name string
}

func (e *DuplicateError) Error() string {
	return fmt.Sprintf("the member %q is twice in one object", strings.Join(e.Path, "."))
}

// NoncharacterError is a Unicode noncharacter in a member name or a string.
type NoncharacterError struct {
	// Path names the member or array element whose name or string value holds it: the
	// member names and array indices that lead to it. It is empty for a string that is the
	// whole document.
	Path []string
	// Rune is the first noncharacter found.
	Rune rune
}

func (e *NoncharacterError) Error() string {
	return fmt.Sprintf("%q contains the Unicode noncharacter U+%04X", strings.Join(e.Path, "."), e.Rune)
}

// Exact compares member names as they are, after unescaping: "a" and "\u0061" are the same
// name, "a" and "A" are not.
func Exact(name string) string { return name }

// FoldCase compares member names ignoring case, as encoding/json matches them to struct
// fields and as strings.EqualFold compares: two names are the same when FoldCase returns the
// same string for both.
func FoldCase(name string) string {
	var b strings.Builder
	b.Grow(len(name))
	for _, r := range name {
		// The smallest rune of r's case-folding orbit stands for all of them.
		for {
			next := unicode.SimpleFold(r)
			if next <= r {
				r = next
				break
			}
			r = next
		}
		b.WriteRune(r)
	}
	return b.String()
}

// Check walks data, one JSON value, and returns a *DuplicateError for the first member name
// that is the second of its object, a *NoncharacterError for the first member name or string
// that holds a Unicode noncharacter, whichever comes first, or nil. Two names are the same
// when key (Exact or FoldCase) maps them to the same string. Data that is not JSON returns
// the decoder's error.
func Check(data []byte, key func(name string) string) error {
	return walk(data, key, true)
}

// CheckNames is Check without the noncharacter rule: it returns only a *DuplicateError, or
// the decoder's error.
func CheckNames(data []byte, key func(name string) string) error {
	return walk(data, key, false)
}

// Noncharacter returns the first Unicode noncharacter of s: U+FDD0..U+FDEF, and the last two
// code points of every plane (U+FFFE, U+FFFF, U+1FFFE, ... U+10FFFF).
func Noncharacter(s string) (rune, bool) {
	for _, r := range s {
		if r >= 0xFDD0 && r <= 0xFDEF || r&0xFFFE == 0xFFFE {
			return r, true
		}
	}
	return 0, false
}

// frame is one open object or array of the walk.
type frame struct {
	object  bool
	wantKey bool              // an object's next token is a member name
	names   map[string]string // an object's names so far, by key, as first spelled
	key     string            // an object's current member name
	index   int               // an array's current element, from 0
}

// path names the value at the top of the stack.
func path(stack []frame) []string {
	parts := make([]string, 0, len(stack))
	for _, f := range stack {
		if f.object {
			parts = append(parts, f.key)
		} else {
			parts = append(parts, strconv.Itoa(f.index))
		}
	}
	return parts
}

func walk(data []byte, key func(string) string, noncharacters bool) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber() // numbers beyond float64 are still JSON
	var stack []frame
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			if len(stack) > 0 {
				return io.ErrUnexpectedEOF // the decoder's tokens end inside a value
			}
			return nil
		}
		if err != nil {
			return err
		}
		n := len(stack)
		if s, ok := tok.(string); ok && n > 0 && stack[n-1].object && stack[n-1].wantKey {
			top := &stack[n-1]
			top.key, top.wantKey = s, false
			if r, found := Noncharacter(s); noncharacters && found {
				return &NoncharacterError{Path: path(stack), Rune: r}
			}
			k := key(s)
			if first, dup := top.names[k]; dup {
				return &DuplicateError{Path: path(stack), First: first, Name: s}
			}
			if top.names == nil {
				top.names = make(map[string]string)
			}
			top.names[k] = s
			continue
		}
		if d, ok := tok.(json.Delim); ok && (d == '}' || d == ']') {
			stack = stack[:len(stack)-1]
			continue
		}
		// A value starts: the next token of an object is a name again, and an array moves on.
		if n > 0 {
			if stack[n-1].object {
				stack[n-1].wantKey = true
			} else {
				stack[n-1].index++
			}
		}
		if s, ok := tok.(string); ok {
			if r, found := Noncharacter(s); noncharacters && found {
				return &NoncharacterError{Path: path(stack), Rune: r}
			}
		}
		if d, ok := tok.(json.Delim); ok {
			stack = append(stack, frame{object: d == '{', wantKey: d == '{', index: -1})
		}
	}
}
