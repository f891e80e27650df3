package httpapi_test

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestTrainBot(t *testing.T) {
	t.Parallel()
	cases := map[string]string{
		"FailedBotGoesBackToTraining": "error",
		"ActiveBotGoesBackToTraining": "active",
		"TrainingBotStartsOver":       "training",
	}
	for name, status := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			e, u, bot := setupBot(t, map[string]any{"name": "Support", "temperature": 1.1})
			e.authzFor(t).setStatus(status, "x", bot.Id)
			before := e.get(u, botPath(bot.Id))

			res := e.post(u, botPath(bot.Id, "/train"), nil)
			require.Equal(t, http.StatusAccepted, res.code, string(res.body))
			tag := lifeETag(t, res)
			require.NotEqual(t, lifeETag(t, before), tag)
			got := lifeJSON(t, res)
			require.Equal(t, "training", got["status"])
			require.Nil(t, got["status_message"])
			require.Equal(t, 1.1, got["temperature"])

			after := e.get(u, botPath(bot.Id))
			require.Equal(t, tag, lifeETag(t, after))
			require.Equal(t, "training", lifeJSON(t, after)["status"])
		})
	}
}
