package cli

// WithBeforeWrites returns env with a function that apply and import call between their checks
// and their writes, so that a test can change the caller's bots concurrently.
func WithBeforeWrites(env Env, f func()) Env {
	env.beforeWrites = f
	return env
}
