package bots

import "encoding/json"

// Model is a language model a bot can run on.
type Model struct {
	ID            string
	DisplayName   string
	Provider      string
	ContextWindow int32
	// MaxTemperature is the highest temperature the model supports; the API accepts up to 2
	// for every model, and training refuses a bot whose temperature the model cannot run.
	MaxTemperature float64
	// Retired models stay listed so that existing bots can be understood, but training
	// refuses them.
	Retired bool
}

// catalog is the list served by GET /api/v1/models, in the order it is served.
var catalog = []Model{
	{ID: "gpt-4o", DisplayName: "GPT-4o", Provider: "OpenAI", ContextWindow: 128000, MaxTemperature: 2},
	{ID: "gpt-4o-mini", DisplayName: "GPT-4o mini", Provider: "OpenAI", ContextWindow: 128000, MaxTemperature: 2},
	{ID: "claude-3-5-sonnet", DisplayName: "Claude 3.5 Sonnet", Provider: "Anthropic", ContextWindow: 200000, MaxTemperature: 1},
	{ID: "claude-3-haiku", DisplayName: "Claude 3 Haiku", Provider: "Anthropic", ContextWindow: 200000, MaxTemperature: 1},
	{ID: "llama-3.1-70b-instruct", DisplayName: "Llama 3.1 70B Instruct", Provider: "Meta", ContextWindow: 131072, MaxTemperature: 2},
	{ID: "mistral-small", DisplayName: "Mistral Small", Provider: "Mistral AI", ContextWindow: 32000, MaxTemperature: 1.5},
	{ID: "chatsphere-nano", DisplayName: "ChatSphere Nano", Provider: "ChatSphere", ContextWindow: 256, MaxTemperature: 1},
	{ID: "gpt-3.5-turbo", DisplayName: "GPT-3.5 Turbo", Provider: "OpenAI", ContextWindow: 16385, MaxTemperature: 2, Retired: true},
}

// Models returns the model catalog.
func Models() []Model {
	return append([]Model(nil), catalog...)
}

// LookupModel returns the catalog entry for id.
func LookupModel(id string) (Model, bool) {
	for _, m := range catalog {
		if m.ID == id {
			return m, true
		}
	}
	return Model{}, false
}

// servable maps each model that training accepts (listed and not retired) to the highest
// temperature it supports, as JSON for BotUpdate, which decides with it whether a
// temperature-only change of an active bot needs training.
var servable = func() []byte {
	m := map[string]float64{}
	for _, model := range catalog {
		if !model.Retired {
			m[model.ID] = model.MaxTemperature
		}
	}
	raw, err := json.Marshal(m)
	if err != nil {
		panic(err) // a map of strings to numbers always encodes
	}
	return raw
}()
