// Package training moves bots out of the training status: a durable River job per training
// request prepares the bot's configuration for the chat runtime, then marks the bot active,
// or in error with a message that says what to fix. The same workers run the periodic purge
// of what is past keeping.
package training

import (
	"context"
	"errors"
	"fmt"
	"math"
	"unicode/utf8"

	"github.com/chatsphere/bots/internal/bots"
)

// Trainer prepares a version's configuration for the chat runtime.
type Trainer interface {
	// Prepare returns the configuration a chat runtime would run the version with. A
	// *ConfigError means the configuration cannot work and the user must change it; any
	// other error is transient and the job is retried.
	Prepare(ctx context.Context, c bots.Configuration) (Prepared, error)
}

// Prepared is the runtime configuration of a trained version, stored with the version. A
// version that only changes its active predecessor's temperature takes the predecessor's,
// with its temperature replaced (BotUpdate), so the temperature is its only field that
// depends on the temperature.
type Prepared struct {
	Model              string  `json:"model"`
	Provider           string  `json:"provider"`
	ContextWindow      int32   `json:"context_window"`
	Temperature        float64 `json:"temperature"`
	SystemPrompt       string  `json:"system_prompt"`
	SystemPromptTokens int     `json:"system_prompt_tokens"`
	// MaxConversationTokens is what the context window leaves for the conversation.
	MaxConversationTokens int `json:"max_conversation_tokens"`
}

// ConfigError is a problem with the bot's configuration; its message is shown to the user
// as the bot's status_message.
type ConfigError struct {
	Message string
}

func (e *ConfigError) Error() string { return e.Message }

// CharsPerToken is the documented token estimate: one token per 4 characters (Unicode code
// points) of system prompt, rounded up, plus PromptOverheadTokens for the message framing.
// It errs on the side of more tokens for English text.
const (
	CharsPerToken        = 4
	PromptOverheadTokens = 8
	// MaxPromptShare is the part of the context window the system prompt may take; the rest
	// is left for the conversation.
	MaxPromptShare = 0.5
)

// EstimateTokens returns the estimated tokens of a system prompt.
func EstimateTokens(prompt string) int {
	return int(math.Ceil(float64(utf8.RuneCountInString(prompt))/CharsPerToken)) + PromptOverheadTokens
}

// CatalogTrainer checks a bot against the model catalog: the model exists and is not
// retired, the temperature is one the model supports, and the system prompt leaves at least
// half of the model's context window for the conversation.
type CatalogTrainer struct{}

// Prepare implements Trainer.
func (CatalogTrainer) Prepare(_ context.Context, bot bots.Configuration) (Prepared, error) {
	model, ok := bots.LookupModel(bot.Model)
	switch {
	case !ok:
		return Prepared{}, &ConfigError{Message: fmt.Sprintf(
			"model %q is no longer offered; choose one listed by GET /api/v1/models", bot.Model)}
	case model.Retired:
		return Prepared{}, &ConfigError{Message: fmt.Sprintf(
			"model %q is retired; choose another model listed by GET /api/v1/models", bot.Model)}
	case bot.Temperature > model.MaxTemperature:
		return Prepared{}, &ConfigError{Message: fmt.Sprintf(
			"temperature %g is above %g, the most that %s supports; lower it or choose another model",
			bot.Temperature, model.MaxTemperature, model.DisplayName)}
	}
	tokens := EstimateTokens(bot.SystemPrompt)
	budget := int(float64(model.ContextWindow) * MaxPromptShare)
	if tokens > budget {
		return Prepared{}, &ConfigError{Message: fmt.Sprintf(
			"the system prompt is about %d tokens, but %s allows at most %d (half of its %d-token context window); shorten the prompt or choose a model with a larger context window",
			tokens, model.DisplayName, budget, model.ContextWindow)}
	}
	return Prepared{
		Model:                 model.ID,
		Provider:              model.Provider,
		ContextWindow:         model.ContextWindow,
		Temperature:           bot.Temperature,
		SystemPrompt:          bot.SystemPrompt,
		SystemPromptTokens:    tokens,
		MaxConversationTokens: int(model.ContextWindow) - tokens,
	}, nil
}

// IsConfigError reports whether err says the configuration must change.
func IsConfigError(err error) bool {
	var ce *ConfigError
	return errors.As(err, &ce)
}
