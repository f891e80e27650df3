package bots

import (
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/cases"
	"golang.org/x/text/unicode/bidi"
	"golang.org/x/text/unicode/norm"
)

// The name rules are here because neither openapi.yaml nor the database can state them.
// openapi.yaml checks the name as sent (1 to 100 characters, not only ASCII whitespace, no
// NUL) but knows no Unicode normalisation, case folding or character property; PostgreSQL 15
// has no full case folding. Length and blankness are checked again after NFC and trimming,
// which can change them (U+0958 becomes two code points; U+3000 is whitespace). The database
// keeps the folded key unique per owner.

// MaxNameLength is the longest bot name, in Unicode code points.
const MaxNameLength = 100

// folder applies Unicode full case folding: "Straße" and "STRASSE", "ΟΔΟΣ" and "οδος",
// "µ" (micro sign) and "μ" (mu) fold alike. A Caser without state is safe for concurrent use.
var folder = cases.Fold()

// Fold returns the form in which names are compared and searched: without default-ignorable
// code points (invisible, so two names that differ only by them look the same), full case
// folded, and in NFC. It is Unicode's canonical caseless match (D145) of the visible text.
func Fold(s string) string {
	s = strings.Map(func(r rune) rune {
		if isDefaultIgnorable(r) {
			return -1
		}
		return r
	}, norm.NFD.String(s))
	return norm.NFC.String(folder.String(s))
}

// NormalizeName returns name as it is stored, and its folded key (see Fold), or the reasons
// it cannot be a bot's name. A name is stored in NFC (so that "Café" typed with a combining
// accent and with "é" is one name) without surrounding whitespace, and it must not contain
// characters that hide or reorder text: control characters, bidirectional embeddings,
// overrides and isolates; nor be made only of invisible characters.
func NormalizeName(name string) (stored, key string, problems []string) {
	stored = strings.TrimSpace(norm.NFC.String(name))
	if stored == "" {
		return stored, "", []string{"must not be blank"}
	}
	switch {
	case strings.IndexFunc(stored, isControl) >= 0:
		problems = append(problems, "must not contain control characters")
	case strings.IndexFunc(stored, isBidiControl) >= 0:
		problems = append(problems, "must not contain bidirectional embedding, override or isolate characters (U+202A to U+202E, U+2066 to U+2069)")
	case !hasVisible(stored):
		problems = append(problems, "must contain a visible character, not only invisible ones or whitespace")
	}
	if n := utf8.RuneCountInString(stored); n > MaxNameLength {
		problems = append(problems, "must be at most "+strconv.Itoa(MaxNameLength)+" characters")
	}
	return stored, Fold(stored), problems
}

// copyBase is what a default copy name starts with: the source's name made to follow the
// name rules, for a name stored before them (or another user's public bot's): characters
// that hide or reorder text are dropped, and a name with nothing visible left becomes "Bot".
func copyBase(source string) string {
	base := strings.TrimSpace(strings.Map(func(r rune) rune {
		if isControl(r) || isBidiControl(r) {
			return -1
		}
		return r
	}, norm.NFC.String(source)))
	if !hasVisible(base) {
		return "Bot"
	}
	return base
}

// isControl reports whether r is a control character (Unicode category Cc: C0, DEL, C1),
// which terminals and logs may act on instead of showing (ESC starts an escape sequence).
func isControl(r rune) bool {
	return unicode.Is(unicode.Cc, r)
}

// hasVisible reports whether s has a character that is neither whitespace nor invisible.
func hasVisible(s string) bool {
	return strings.IndexFunc(s, func(r rune) bool { return !isDefaultIgnorable(r) && !unicode.IsSpace(r) }) >= 0
}

// isBidiControl reports whether r is one of the characters that embed, override or isolate
// the direction of the text around it (U+202A to U+202E, U+2066 to U+2069), which can make a
// name show its characters in another order than they are stored.
func isBidiControl(r rune) bool {
	p, _ := bidi.LookupRune(r)
	switch p.Class() {
	case bidi.LRE, bidi.RLE, bidi.PDF, bidi.LRO, bidi.RLO, bidi.LRI, bidi.RLI, bidi.FSI, bidi.PDI:
		return true
	}
	return false
}

// isDefaultIgnorable reports whether r has Unicode's derived property
// Default_Ignorable_Code_Point: characters that are not shown (U+200B ZERO WIDTH SPACE,
// U+FEFF, U+00AD SOFT HYPHEN, variation selectors, ...). The property is derived, as
// DerivedCoreProperties.txt states, from properties the standard library's tables carry:
// Other_Default_Ignorable_Code_Point + Cf + Variation_Selector - White_Space - FFF9..FFFB -
// 13430..1343F - Prepended_Concatenation_Mark.
func isDefaultIgnorable(r rune) bool {
	switch {
	case unicode.Is(unicode.White_Space, r),
		r >= 0xFFF9 && r <= 0xFFFB,
		r >= 0x13430 && r <= 0x1343F,
		unicode.Is(unicode.Prepended_Concatenation_Mark, r):
		return false
	}
	return unicode.Is(unicode.Other_Default_Ignorable_Code_Point, r) ||
		unicode.Is(unicode.Cf, r) ||
		unicode.Is(unicode.Variation_Selector, r)
}

// CopyName is the n-th default name of a copy of a bot named source: "<source> (copy)" for
// n = 1, "<source> (copy n)" after that, with source shortened so that the whole stays
// within MaxNameLength code points. The source's name is first made to follow the name rules
// (see copyBase), so that a copy never inherits a name the service would refuse.
func CopyName(source string, n int) string {
	suffix := " (copy)"
	if n > 1 {
		suffix = " (copy " + strconv.Itoa(n) + ")"
	}
	source = copyBase(source)
	keep := MaxNameLength - utf8.RuneCountInString(suffix)
	if utf8.RuneCountInString(source) > keep {
		source = strings.TrimRightFunc(string([]rune(source)[:keep]), unicode.IsSpace)
	}
	return source + suffix
}

// SearchPattern is the LIKE pattern of a search text q: it matches a folded name or
// description (see Fold) that contains the folded q anywhere, every character of q, % and _
// included, standing for itself.
func SearchPattern(q string) string {
	return "%" + likeEscaper.Replace(Fold(q)) + "%"
}

var likeEscaper = strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
