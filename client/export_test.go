package client

import "time"

// WithTimeouts replaces AnswerTimeout and StreamSilence, so that a test of a service that
// never answers, or of a stream that goes silent, takes a second rather than a minute.
func WithTimeouts(answer, silence time.Duration) Option {
	return func(c *Client) error {
		c.answerTimeout, c.silence = answer, silence
		return nil
	}
}
