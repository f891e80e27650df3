package cli

import "github.com/chatsphere/bots/client"

// WithBeforeWrites returns env with a function that apply and import call between their checks
// and their writes, so that a test can change the caller's bots concurrently.
func WithBeforeWrites(env Env, f func()) Env {
	env.beforeWrites = f
	return env
}

// WithClientOptions returns env with options added to every SDK client its commands make, so
// that a test can shorten the retry budget.
func WithClientOptions(env Env, opts ...client.Option) Env {
	env.clientOptions = append(env.clientOptions, opts...)
	return env
}
