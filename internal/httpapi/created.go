package httpapi

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/chatsphere/bots/gen/api"
	"github.com/chatsphere/bots/internal/auth"
	"github.com/chatsphere/bots/internal/bots"
)

// created is the 201 answer of a create or a duplicate: freshly made, or replayed from the
// first request with the same Idempotency-Key.
type created struct {
	bots.Replay
	replayed bool
}

// createOnce runs create in a transaction and renders its 201 answer, which is stored under
// the Idempotency-Key, when there is one, in that same transaction.
func (h *Handler) createOnce(ctx context.Context, key *string, hash []byte, create func(pgx.Tx) (bots.Bot, error)) (created, error) {
	rep, replayed, err := h.bots.Idempotent(ctx, auth.User(ctx), idempotencyKey(key), hash, func(tx pgx.Tx) (bots.Replay, error) {
		bot, err := create(tx)
		if err != nil {
			return bots.Replay{}, err
		}
		body, err := json.Marshal(toAPI(bot))
		if err != nil {
			return bots.Replay{}, err
		}
		return bots.Replay{Status: http.StatusCreated, Body: body, Location: location(bot), ETag: etag(bot.Version)}, nil
	})
	return created{Replay: rep, replayed: replayed}, err
}

// VisitCreateBotResponse implements api.CreateBotResponseObject.
func (c created) VisitCreateBotResponse(w http.ResponseWriter) error { return c.write(w) }

// VisitDuplicateBotResponse implements api.DuplicateBotResponseObject.
func (c created) VisitDuplicateBotResponse(w http.ResponseWriter) error { return c.write(w) }

func (c created) write(w http.ResponseWriter) error {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	if c.Location != "" {
		h.Set("Location", c.Location)
	}
	if c.ETag != "" {
		h.Set("ETag", c.ETag)
	}
	if c.replayed {
		h.Set("Idempotent-Replayed", "true")
	}
	h.Set("Content-Length", strconv.Itoa(len(c.Body)))
	w.WriteHeader(c.Status)
	_, err := w.Write(c.Body)
	return err
}

// idempotencyKey reads an Idempotency-Key, sent as a token or as a quoted string.
func idempotencyKey(header *string) string {
	if header == nil {
		return ""
	}
	key := strings.TrimSpace(*header)
	if len(key) >= 2 && key[0] == '"' && key[len(key)-1] == '"' {
		key = key[1 : len(key)-1]
	}
	return key
}

// requestHash identifies a request for idempotency: the operation (with its target) and the
// validated body, re-encoded so that formatting differences do not count.
func requestHash(op string, body any) []byte {
	raw, _ := json.Marshal(body) // validated request bodies always encode
	sum := sha256.Sum256(append([]byte(op+"\x00"), raw...))
	return sum[:]
}

func keyInFlight(ctx context.Context) api.ConflictApplicationProblemPlusJSONResponse {
	return api.ConflictApplicationProblemPlusJSONResponse(newProblem(ctx, kindKeyInFlight,
		"a request with this Idempotency-Key is still being processed; retry in a moment"))
}

func keyReused(ctx context.Context) api.UnprocessableEntityApplicationProblemPlusJSONResponse {
	return api.UnprocessableEntityApplicationProblemPlusJSONResponse(newProblem(ctx, kindKeyReused,
		"this Idempotency-Key was already used for a different request; use a new key"))
}
