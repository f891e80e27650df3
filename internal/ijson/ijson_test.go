package ijson_test

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/chatsphere/bots/internal/ijson"
)

func TestCheckRefusesAMemberNameTwiceInOneObject(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, data    string
		key           func(string) string
		path          []string
		first, second string
	}{
		{"AtTheTop", `{"a":1,"b":2,"a":3}`, ijson.Exact, []string{"a"}, "a", "a"},
		{"AtDepth", `{"a":{"b":{"c":1,"d":2,"c":3}}}`, ijson.Exact, []string{"a", "b", "c"}, "c", "c"},
		{"InAnObjectInAnArray", `{"a":[{"b":1},{"c":1,"c":2}]}`, ijson.Exact, []string{"a", "1", "c"}, "c", "c"},
		{"AfterNestedValues", `{"a":[1,[2],{"x":3}],"b":{},"a":null}`, ijson.Exact, []string{"a"}, "a", "a"},
		{"InATopLevelArray", `[{},{},{"z":1,"z":2}]`, ijson.Exact, []string{"2", "z"}, "z", "z"},
		{"SpelledWithAnEscape", `{"is_public":false,"is_\u0070ublic":true}`, ijson.Exact, []string{"is_public"}, "is_public", "is_public"},
		{"InAnotherCaseWhenCaseIsIgnored", `{"bots":[],"Bots":[]}`, ijson.FoldCase, []string{"Bots"}, "bots", "Bots"},
		{"WithTheKelvinSignWhenCaseIsIgnored", `{"k":1,"\u212a":2}`, ijson.FoldCase, []string{"\u212a"}, "k", "\u212a"},
		{"NonASCIIInAnotherCaseWhenCaseIsIgnored", `{"é":1,"É":2}`, ijson.FoldCase, []string{"É"}, "é", "É"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			for _, check := range []func([]byte, func(string) string) error{ijson.Check, ijson.CheckNames} {
				var dup *ijson.DuplicateError
				require.ErrorAs(t, check([]byte(c.data), c.key), &dup)
				require.Equal(t, c.path, dup.Path)
				require.Equal(t, c.first, dup.First)
				require.Equal(t, c.second, dup.Name)
			}
		})
	}
}

func TestCheckAcceptsWhatIsNotADuplicate(t *testing.T) {
	t.Parallel()
	cases := map[string]struct {
		data string
		key  func(string) string
	}{
		"TheSameNameInTwoObjects":        {`{"a":{"x":1},"b":[{"x":1},{"x":1}],"x":{"x":{"x":1}}}`, ijson.Exact},
		"NamesInTwoCasesComparedExactly": {`{"bots":[],"Bots":[]}`, ijson.Exact},
		"AStringValueLikeAName":          {`{"a":"a","b":["a","a"]}`, ijson.Exact},
		"ScalarsAndEmptyContainers":      {`[1e400,-0,true,null,"",{},[]]`, ijson.FoldCase},
		"AScalarDocument":                {`"x"`, ijson.Exact},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			require.NoError(t, ijson.Check([]byte(c.data), c.key))
		})
	}
}

func TestCheckRefusesNoncharacters(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, data string
		path       []string
		r          rune // 0: accepted
	}{
		{"RawFDD0InAString", `{"a":"x` + "\uFDD0" + `"}`, []string{"a"}, 0xFDD0},
		{"RawFDEFInAString", `{"a":"` + "\uFDEF" + `"}`, []string{"a"}, 0xFDEF},
		{"RawFFFEInAString", `{"a":"` + "\uFFFE" + `"}`, []string{"a"}, 0xFFFE},
		{"RawFFFFInAString", `{"a":"` + "\uFFFF" + `"}`, []string{"a"}, 0xFFFF},
		{"Raw1FFFEInAString", `{"a":"` + "\U0001FFFE" + `"}`, []string{"a"}, 0x1FFFE},
		{"Raw10FFFFInAString", `{"a":"` + "\U0010FFFF" + `"}`, []string{"a"}, 0x10FFFF},
		{"EscapedFDD0InAString", `{"a":"\ufdd0"}`, []string{"a"}, 0xFDD0},
		{"EscapedFFFFInAString", `{"a":"\uFFFF"}`, []string{"a"}, 0xFFFF},
		{"EscapedSurrogatePairOf1FFFE", `{"a":"\ud83f\udffe"}`, []string{"a"}, 0x1FFFE},
		{"EscapedSurrogatePairOf10FFFF", `{"a":"\udbff\udfff"}`, []string{"a"}, 0x10FFFF},
		{"InAMemberName", `{"a":{"\ufdd0":1}}`, []string{"a", "\uFDD0"}, 0xFDD0},
		{"InAnArrayElement", `{"a":["ok","\uffff"]}`, []string{"a", "1"}, 0xFFFF},
		{"InATopLevelString", `"\ufffe"`, []string{}, 0xFFFE},
		{"FDCFIsAccepted", `{"a":"` + "\uFDCF" + `\ufdcf"}`, nil, 0},
		{"FDF0IsAccepted", `{"a":"` + "\uFDF0" + `\ufdf0"}`, nil, 0},
		{"FFFDIsAccepted", `{"a":"` + "\uFFFD" + `\ufffd"}`, nil, 0},
		{"1FFFDIsAccepted", `{"a":"` + "\U0001FFFD" + `\ud83f\udffd"}`, nil, 0},
		{"10000IsAccepted", `{"a":"` + "\U00010000" + `\ud800\udc00"}`, nil, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			err := ijson.Check([]byte(c.data), ijson.Exact)
			if c.r == 0 {
				require.NoError(t, err)
				return
			}
			var non *ijson.NoncharacterError
			require.ErrorAs(t, err, &non)
			require.Equal(t, c.path, non.Path)
			require.Equal(t, c.r, non.Rune)
			require.NoError(t, ijson.CheckNames([]byte(c.data), ijson.Exact), "CheckNames leaves noncharacters alone")
		})
	}
}

func TestCheckFindsANoncharacterInANameBeforeItsDuplicate(t *testing.T) {
	t.Parallel()
	data := []byte(`{"\ufdd0":1,"\ufdd0":2}`)
	var non *ijson.NoncharacterError
	require.ErrorAs(t, ijson.Check(data, ijson.Exact), &non)
	require.Equal(t, []string{"\uFDD0"}, non.Path)
	var dup *ijson.DuplicateError
	require.ErrorAs(t, ijson.CheckNames(data, ijson.Exact), &dup, "CheckNames leaves noncharacters alone")
}

func TestNoncharacterBoundaries(t *testing.T) {
	t.Parallel()
	for r, want := range map[rune]bool{
		0xFDCF: false, 0xFDD0: true, 0xFDEF: true, 0xFDF0: false,
		0xFFFD: false, 0xFFFE: true, 0xFFFF: true, 0x10000: false,
		0x1FFFD: false, 0x1FFFE: true, 0x1FFFF: true, 0x20000: false,
		0x10FFFD: false, 0x10FFFE: true, 0x10FFFF: true, 'a': false,
	} {
		got, found := ijson.Noncharacter("a" + string(r) + "b")
		require.Equal(t, want, found, "U+%04X", r)
		if want {
			require.Equal(t, r, got, "U+%04X", r)
		}
	}
}

func TestCheckReturnsTheDecodersErrorForWhatIsNotJSON(t *testing.T) {
	t.Parallel()
	for _, data := range []string{`{"a":`, `{"a" 1}`, `[1,]`} {
		err := ijson.Check([]byte(data), ijson.Exact)
		require.Error(t, err, data)
		var dup *ijson.DuplicateError
		var non *ijson.NoncharacterError
		require.False(t, errors.As(err, &dup) || errors.As(err, &non), data)
	}
}
