package training_test

import (
	"context"
	"math"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/chatsphere/bots/internal/bots"
	"github.com/chatsphere/bots/internal/training"
)

// prepare prepares c by the catalog's rules. With a refusal, Prepare must refuse c for it, as
// a configuration error, and ok is false; without, Prepare must accept c.
func prepare(t *testing.T, c bots.Configuration, refusal string) (_ training.Prepared, ok bool) {
	t.Helper()
	prepared, err := training.CatalogTrainer{}.Prepare(context.Background(), c)
	if refusal != "" {
		require.True(t, training.IsConfigError(err), "%v", err)
		require.Equal(t, refusal, err.Error())
		return prepared, false
	}
	require.NoError(t, err)
	return prepared, true
}

// The documented estimate: one token per 4 code points of system prompt, rounded up, plus 8
// for the message framing.
func TestEstimateTokens(t *testing.T) {
	t.Parallel()
	cases := map[string]struct {
		prompt string
		want   int
	}{
		"AnEmptyPromptIsTheFramingAlone":        {"", 8},
		"OneCharacterIsAWholeToken":             {"a", 9},
		"FourCharactersAreOneToken":             {"abcd", 9},
		"AFifthCharacterStartsAToken":           {"abcde", 10},
		"CodePointsCountNotBytes":               {"éééé", 9},
		"AnEmojiIsOneCodePoint":                 {"😀😀😀😀😀", 10},
		"ASentenceOfTwentyTwoCharacters":        {"You help with returns.", 14},
		"AThousandCharactersAreTwoHundredFifty": {strings.Repeat("x", 1000), 258},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, c.want, training.EstimateTokens(c.prompt))
		})
	}
}

// A temperature is refused only above the model's max_temperature: exactly at it, and at
// the nearest number below it, the bot trains; at the nearest number above, it does not.
func TestCatalogTrainerTemperatureLimit(t *testing.T) {
	t.Parallel()
	// Sanity of the literals below: they are the neighbours of 1 and 1.5 among doubles.
	require.Equal(t, math.Nextafter(1, 0), 0.9999999999999999)
	require.Equal(t, math.Nextafter(1, 2), 1.0000000000000002)
	require.Equal(t, math.Nextafter(1.5, 0), 1.4999999999999998)
	require.Equal(t, math.Nextafter(1.5, 2), 1.5000000000000002)
	cases := map[string]struct {
		model       string
		temperature float64
		refusal     string // "" when the bot trains
	}{
		"JustBelowClaudes":   {"claude-3-haiku", 0.9999999999999999, ""},
		"AtClaudes":          {"claude-3-haiku", 1, ""},
		"JustAboveClaudes":   {"claude-3-haiku", 1.0000000000000002, "temperature 1.0000000000000002 is above 1, the most that Claude 3 Haiku supports; lower it or choose another model"},
		"AHundredthAbove":    {"claude-3-haiku", 1.01, "temperature 1.01 is above 1, the most that Claude 3 Haiku supports; lower it or choose another model"},
		"JustBelowMistrals":  {"mistral-small", 1.4999999999999998, ""},
		"AtMistrals":         {"mistral-small", 1.5, ""},
		"JustAboveMistrals":  {"mistral-small", 1.5000000000000002, "temperature 1.5000000000000002 is above 1.5, the most that Mistral Small supports; lower it or choose another model"},
		"AtTheAPIsMostOfTwo": {"gpt-4o", 2, ""},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			prepared, ok := prepare(t, bots.Configuration{Model: c.model, Temperature: c.temperature, SystemPrompt: "Be kind."}, c.refusal)
			if ok {
				require.Equal(t, c.temperature, prepared.Temperature)
			}
		})
	}
}

// The system prompt may take at most half of the model's context window. ChatSphere Nano
// has 256 tokens, so at most 128: 8 for the framing and 120 for the prompt, which are 477 to
// 480 code points (480 / 4 = 120; 477 / 4 = 119.25, rounded up to 120); 481 are 121 tokens.
func TestCatalogTrainerPromptLimit(t *testing.T) {
	t.Parallel()
	cases := map[string]struct {
		prompt       string
		tokens       int    // when the bot trains
		conversation int    // what is left of the window, when the bot trains
		refusal      string // "" when the bot trains
	}{
		"OneTokenBelowTheLimit":       {strings.Repeat("a", 476), 127, 129, ""},
		"AtTheLimitRoundedUp":         {strings.Repeat("a", 477), 128, 128, ""},
		"AtTheLimit":                  {strings.Repeat("a", 480), 128, 128, ""},
		"AtTheLimitInTwoByteLetters":  {strings.Repeat("é", 480), 128, 128, ""},
		"AtTheLimitInFourByteEmoji":   {strings.Repeat("😀", 480), 128, 128, ""},
		"OneCodePointAboveTheLimit":   {strings.Repeat("a", 481), 0, 0, "the system prompt is about 129 tokens, but ChatSphere Nano allows at most 128 (half of its 256-token context window); shorten the prompt or choose a model with a larger context window"},
		"OneTokenAboveTheLimitInFull": {strings.Repeat("é", 484), 0, 0, "the system prompt is about 129 tokens, but ChatSphere Nano allows at most 128 (half of its 256-token context window); shorten the prompt or choose a model with a larger context window"},
		"TwoTokensAboveTheLimit":      {strings.Repeat("a", 485), 0, 0, "the system prompt is about 130 tokens, but ChatSphere Nano allows at most 128 (half of its 256-token context window); shorten the prompt or choose a model with a larger context window"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			prepared, ok := prepare(t, bots.Configuration{Model: "chatsphere-nano", Temperature: 0.7, SystemPrompt: c.prompt}, c.refusal)
			if ok {
				require.Equal(t, c.tokens, prepared.SystemPromptTokens)
				require.Equal(t, c.conversation, prepared.MaxConversationTokens)
				require.Equal(t, int32(256), prepared.ContextWindow)
			}
		})
	}
}

// A model that is not offered, or retired, is refused before any other rule.
func TestCatalogTrainerModels(t *testing.T) {
	t.Parallel()
	cases := map[string]struct {
		model, refusal string
	}{
		"ARetiredModel":      {"gpt-3.5-turbo", `model "gpt-3.5-turbo" is retired; choose another model listed by GET /api/v1/models`},
		"AModelNoLongerSold": {"gpt-2", `model "gpt-2" is no longer offered; choose one listed by GET /api/v1/models`},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			prepare(t, bots.Configuration{Model: c.model, Temperature: 2, SystemPrompt: strings.Repeat("a", 1000)}, c.refusal)
		})
	}
}
