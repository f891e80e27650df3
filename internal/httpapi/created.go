package httpapi

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"net/http"
	"reflect"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/chatsphere/bots/gen/api"
	"github.com/chatsphere/bots/internal/auth"
	"github.com/chatsphere/bots/internal/bots"
)

// created is the 201 answer of a create or a duplicate: the bot made by the first request
// with the Idempotency-Key, freshly or replayed to a retry.
type created struct {
	bot      bots.Bot
	replayed bool
}

// createOnce runs create in a transaction, once per Idempotency-Key when there is one (see
// bots.Service.Idempotent). The answer is rendered from the bot after the transaction, by
// write, in the same way for the first request and for its replays.
func (h *Handler) createOnce(ctx context.Context, key *string, hash []byte, create func(pgx.Tx) (bots.Bot, error)) (created, error) {
	bot, replayed, err := h.bots.Idempotent(ctx, auth.User(ctx), idempotencyKey(key), hash, create)
	return created{bot: bot, replayed: replayed}, err
}

// VisitCreateBotResponse implements api.CreateBotResponseObject.
func (c created) VisitCreateBotResponse(w http.ResponseWriter) error { return c.write(w) }

// VisitDuplicateBotResponse implements api.DuplicateBotResponseObject.
func (c created) VisitDuplicateBotResponse(w http.ResponseWriter) error { return c.write(w) }

// write answers 201 with the bot, its Location and its ETag, and Idempotent-Replayed on a
// replay.
func (c created) write(w http.ResponseWriter) error {
	body, err := json.Marshal(toAPI(c.bot))
	if err != nil {
		return err
	}
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Location", location(c.bot))
	h.Set("ETag", etag(c.bot.Version))
	if c.replayed {
		h.Set("Idempotent-Replayed", "true")
	}
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(http.StatusCreated)
	_, err = w.Write(body)
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

// requestHash identifies a create for idempotency: the operation (with its target) and the
// validated body, re-encoded so that formatting differences do not count. The validator has
// filled in the defaults, so a field sent with its default value and one left out are one
// request; a field sent as null and one left out are one too (see withoutNulls).
func requestHash(op string, body any) []byte {
	raw, _ := json.Marshal(body) // validated request bodies always encode
	sum := sha256.Sum256(append([]byte(op+"\x00"), withoutNulls(raw, body)...))
	return sum[:]
}

// withoutNulls is the encoding of body without its top-level members that are null: in a
// create, a nullable field sent as null makes what leaving it out makes, but a generated
// nullable.Nullable encodes the two differently. The body is decoded again into its own type
// and encoded, so that the result is byte for byte that of the body without the field. A body
// without such a member is returned as it is, so that the keys stored before still match.
func withoutNulls(raw []byte, body any) []byte {
	var members map[string]json.RawMessage
	if json.Unmarshal(raw, &members) != nil {
		return raw
	}
	dropped := false
	for name, value := range members {
		if string(value) == "null" {
			delete(members, name)
			dropped = true
		}
	}
	if !dropped {
		return raw
	}
	trimmed, _ := json.Marshal(members)
	again := reflect.New(reflect.TypeOf(body))
	if json.Unmarshal(trimmed, again.Interface()) != nil {
		return raw
	}
	out, err := json.Marshal(again.Elem().Interface())
	if err != nil {
		return raw
	}
	return out
}

func keyInFlight(ctx context.Context) api.ConflictApplicationProblemPlusJSONResponse {
	return api.ConflictApplicationProblemPlusJSONResponse(newProblem(ctx, kindKeyInFlight,
		"a request with this Idempotency-Key is still being processed; retry in a moment"))
}

func keyReused(ctx context.Context) api.UnprocessableEntityApplicationProblemPlusJSONResponse {
	return api.UnprocessableEntityApplicationProblemPlusJSONResponse(newProblem(ctx, kindKeyReused,
		"this Idempotency-Key was already used for a different request; use a new key"))
}
