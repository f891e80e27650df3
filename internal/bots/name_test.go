package bots_test

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/require"

	"github.com/chatsphere/bots/internal/bots"
)

func TestNamesThatLookTheSameFoldAlike(t *testing.T) {
	t.Parallel()
	for _, c := range []struct{ name, a, b string }{
		{"ComposedAndDecomposedAccents", "Caf\u00e9", "Cafe\u0301"},
		{"SharpSAndDoubleS", "Straße", "STRASSE"},
		{"FinalAndCapitalSigma", "ΟΔΟΣ", "οδος"},
		{"MicroSignAndMu", "\u00b5", "\u03bc"},
		{"ASCIICase", "Support", "sUPPORT"},
		{"ZeroWidthSpaceInside", "Sup\u200bport", "Support"},
		{"ByteOrderMarkInside", "Sup\ufeffport", "Support"},
		{"SoftHyphenInside", "Sup\u00adport", "Support"},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			_, ka, pa := bots.NormalizeName(c.a)
			_, kb, pb := bots.NormalizeName(c.b)
			require.Empty(t, pa)
			require.Empty(t, pb)
			require.Equal(t, ka, kb)
			require.Equal(t, bots.Fold(c.a), bots.Fold(c.b))
		})
	}
	t.Run("DifferentNamesStayDifferent", func(t *testing.T) {
		t.Parallel()
		require.NotEqual(t, bots.Fold("Support"), bots.Fold("Support 2"))
		require.NotEqual(t, bots.Fold("Café"), bots.Fold("Cafe"))
	})
}

func TestNamesAreStoredInNFCWithoutSurroundingWhitespace(t *testing.T) {
	t.Parallel()
	stored, _, problems := bots.NormalizeName("  Cafe\u0301 \u00a0")
	require.Empty(t, problems)
	require.Equal(t, "Caf\u00e9", stored)
}

func TestNamesThatHideOrReorderTextAreRefused(t *testing.T) {
	t.Parallel()
	for _, c := range []struct{ name, input, problem string }{
		{"Escape", "Support\x1b[31m", "must not contain control characters"},
		{"Tab", "Sup\tport", "must not contain control characters"},
		{"C1Control", "Sup\u0085port", "must not contain control characters"},
		{"RightToLeftOverride", "invoice\u202egpj.exe", "must not contain bidirectional"},
		{"LeftToRightEmbedding", "a\u202ab", "must not contain bidirectional"},
		{"PopDirectionalFormatting", "a\u202cb", "must not contain bidirectional"},
		{"RightToLeftIsolate", "a\u2067b", "must not contain bidirectional"},
		{"PopDirectionalIsolate", "a\u2069b", "must not contain bidirectional"},
		{"OnlyZeroWidthSpaces", "\u200b\u200b", "must contain a visible character"},
		{"OnlyByteOrderMark", "\ufeff", "must contain a visible character"},
		{"InvisibleAndWhitespace", "\u200b \u2060\u3000", "must contain a visible character"},
		{"OnlyWhitespace", " \u00a0\u2003 ", "must not be blank"},
		{"Empty", "", "must not be blank"},
		{"TooLongAfterNFC", strings.Repeat("\u0958", 51), "must be at most 100 characters"},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			_, _, problems := bots.NormalizeName(c.input)
			require.Len(t, problems, 1)
			require.Contains(t, problems[0], c.problem)
		})
	}
	for _, ok := range []string{
		"Support assistant",
		"Assistant d'été",
		"مساعد الدعم",     // right-to-left letters are text, not controls
		"a\u200eb",        // a left-to-right mark is allowed inside a name
		"👩\u200d💻 helper", // a zero width joiner inside an emoji sequence
		"می\u200cخواهم",   // a zero width non-joiner, which Persian needs
	} {
		_, _, problems := bots.NormalizeName(ok)
		require.Empty(t, problems, "%q", ok)
	}
}

func TestCopyNamesFollowTheNameRules(t *testing.T) {
	t.Parallel()
	t.Run("ControlAndBidiCharactersOfTheSourceAreDropped", func(t *testing.T) {
		t.Parallel()
		got := bots.CopyName("invoice\u202egpj\x1b.exe", 2)
		require.Equal(t, "invoicegpj.exe (copy 2)", got)
		_, _, problems := bots.NormalizeName(got)
		require.Empty(t, problems)
	})
	t.Run("ASourceWithNothingVisibleBecomesBot", func(t *testing.T) {
		t.Parallel()
		require.Equal(t, "Bot (copy)", bots.CopyName("\u202e\u200b", 1))
	})
	t.Run("ASourceInNFDIsStoredInNFC", func(t *testing.T) {
		t.Parallel()
		require.Equal(t, "Caf\u00e9 (copy)", bots.CopyName("Cafe\u0301", 1))
	})
	t.Run("ALongSourceIsShortenedToTheLimit", func(t *testing.T) {
		t.Parallel()
		got := bots.CopyName(strings.Repeat("é", 120), 12)
		require.Equal(t, bots.MaxNameLength, utf8.RuneCountInString(got))
		require.True(t, strings.HasSuffix(got, " (copy 12)"))
	})
}

func TestSearchPatternMatchesTheFoldedTextLiterally(t *testing.T) {
	t.Parallel()
	require.Equal(t, `%strasse%`, bots.SearchPattern("STRAẞE"))
	require.Equal(t, `%100\% \_off\\%`, bots.SearchPattern(`100% _OFF\`))
}
