package httpapi_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/chatsphere/bots/gen/api"
)

// valid is a create body that passes; cases change one field of it.
func valid() map[string]any {
	return map[string]any{"name": "Bot", "model": "gpt-4o-mini"}
}

func with(field string, v any) map[string]any {
	b := valid()
	b[field] = v
	return b
}

func without(field string) map[string]any {
	b := valid()
	delete(b, field)
	return b
}

// TestCreateBounds checks every bound of a new bot, counting characters as code points.
func TestCreateBounds(t *testing.T) {
	t.Parallel()
	e := setup(t)
	accepted := map[string]struct {
		body  map[string]any
		check func(t *testing.T, b api.BotResponse)
	}{
		"NameOf100MultibyteCharacters":  {with("name", strings.Repeat("é", 100)), nil},
		"NameIsTrimmed":                 {with("name", "  Trimmed\t"), func(t *testing.T, b api.BotResponse) { require.Equal(t, "Trimmed", b.Name) }},
		"NameTrimmedOfUnicodeSpaces":    {with("name", "\u3000Wide\u3000"), func(t *testing.T, b api.BotResponse) { require.Equal(t, "Wide", b.Name) }},
		"DescriptionOf500Characters":    {with("description", strings.Repeat("日", 500)), nil},
		"NullDescription":               {with("description", nil), func(t *testing.T, b api.BotResponse) { require.True(t, b.Description.IsNull()) }},
		"SystemPromptOf1000Characters":  {with("system_prompt", strings.Repeat("é", 1000)), nil},
		"EmptySystemPrompt":             {with("system_prompt", ""), nil},
		"TemperatureZero":               {with("temperature", 0), func(t *testing.T, b api.BotResponse) { require.Equal(t, 0.0, b.Temperature) }},
		"TemperatureTwo":                {with("temperature", 2), func(t *testing.T, b api.BotResponse) { require.Equal(t, 2.0, b.Temperature) }},
		"TemperatureIsReturnedAsGiven":  {with("temperature", 0.7), func(t *testing.T, b api.BotResponse) { require.Equal(t, 0.7, b.Temperature) }},
		"TemperatureWithManyDigits":     {with("temperature", 1.2345678901234), func(t *testing.T, b api.BotResponse) { require.Equal(t, 1.2345678901234, b.Temperature) }},
		"EmojiAndSurrogatePairsCount1":  {with("name", strings.Repeat("😀", 100)), nil},
		"PublicBot":                     {with("is_public", true), func(t *testing.T, b api.BotResponse) { require.True(t, b.IsPublic) }},
		"RetiredModelIsStillACatalogId": {with("model", "gpt-3.5-turbo"), nil},
	}
	for name, c := range accepted {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			u := newUser(t)
			bot := e.createBot(u, c.body)
			if c.check != nil {
				c.check(t, bot)
			}
		})
	}

	refused := map[string]struct {
		body  any
		field string
	}{
		"NameOf101MultibyteCharacters": {with("name", strings.Repeat("é", 101)), "name"},
		"EmptyName":                    {with("name", ""), "name"},
		"BlankName":                    {with("name", "   "), "name"},
		"NameOfUnicodeSpacesOnly":      {with("name", "\u3000\u2003"), "name"},
		"NullName":                     {with("name", nil), "name"},
		"MissingName":                  {without("name"), "name"},
		"NameWithNUL":                  {with("name", "a\u0000b"), "name"},
		"NumberAsName":                 {with("name", 7), "name"},
		"DescriptionOf501Characters":   {with("description", strings.Repeat("日", 501)), "description"},
		"DescriptionWithNUL":           {with("description", "x\u0000"), "description"},
		"SystemPromptOf1001Characters": {with("system_prompt", strings.Repeat("é", 1001)), "system_prompt"},
		"NullSystemPrompt":             {with("system_prompt", nil), "system_prompt"},
		"SystemPromptWithNUL":          {with("system_prompt", "\u0000"), "system_prompt"},
		"TemperatureBelowZero":         {with("temperature", -0.0001), "temperature"},
		"TemperatureAboveTwo":          {with("temperature", 2.0001), "temperature"},
		"TemperatureAsString":          {with("temperature", "0.7"), "temperature"},
		"NullTemperature":              {with("temperature", nil), "temperature"},
		"IsPublicAsNumber":             {with("is_public", 1), "is_public"},
		"IsPublicAsString":             {with("is_public", "true"), "is_public"},
		"NullIsPublic":                 {with("is_public", nil), "is_public"},
		"UnknownModel":                 {with("model", "gpt-9"), "model"},
		"NullModel":                    {with("model", nil), "model"},
		"MissingModel":                 {without("model"), "model"},
		"UnknownField":                 {with("colour", "blue"), "colour"},
		"ReadOnlyId":                   {with("id", "3f0c6b0e-8a5e-4d4c-9d0b-6b1f2f1f6d2a"), "id"},
		"ReadOnlyOwner":                {with("owner_id", "3f0c6b0e-8a5e-4d4c-9d0b-6b1f2f1f6d2a"), "owner_id"},
		"ReadOnlyStatus":               {with("status", "active"), "status"},
		"ReadOnlyStatusMessage":        {with("status_message", "x"), "status_message"},
		"ReadOnlyCreatedAt":            {with("created_at", "2020-01-01T00:00:00Z"), "created_at"},
		"ReadOnlyUpdatedAt":            {with("updated_at", "2020-01-01T00:00:00Z"), "updated_at"},
		"ArrayInsteadOfObject":         {`[]`, ""},
		"NullInsteadOfObject":          {`null`, ""},
	}
	for name, c := range refused {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			u := newUser(t)
			p := e.post(u, "/api/v1/bots", c.body).problem(t, http.StatusUnprocessableEntity)
			require.Equal(t, "/problems/validation", p.Type)
			require.Contains(t, fieldsOf(p), "body:"+c.field)
			require.Zero(t, e.countRows(u), "a refused create writes nothing")
		})
	}

	t.Run("EveryInvalidFieldIsListed", func(t *testing.T) {
		t.Parallel()
		u := newUser(t)
		p := e.post(u, "/api/v1/bots", map[string]any{
			"name": "", "model": "gpt-4o", "temperature": 3, "is_public": "no", "status": "active",
		}).problem(t, http.StatusUnprocessableEntity)
		require.Subset(t, fieldsOf(p), []string{"body:name", "body:temperature", "body:is_public", "body:status"})
	})
}

func (e *env) countRows(u user) int {
	e.t.Helper()
	var n int
	require.NoError(e.t, e.pool.QueryRow(context.Background(), "SELECT count(*) FROM bots WHERE owner_id = $1", u.id).Scan(&n))
	return n
}

func TestUpdateBounds(t *testing.T) {
	t.Parallel()
	e := setup(t)
	refused := map[string]struct {
		body  any
		field string
	}{
		"EmptyBody":                    {map[string]any{}, ""},
		"NameOf101Characters":          {map[string]any{"name": strings.Repeat("é", 101)}, "name"},
		"BlankName":                    {map[string]any{"name": "  "}, "name"},
		"NullName":                     {map[string]any{"name": nil}, "name"},
		"DescriptionOf501Characters":   {map[string]any{"description": strings.Repeat("é", 501)}, "description"},
		"SystemPromptOf1001Characters": {map[string]any{"system_prompt": strings.Repeat("é", 1001)}, "system_prompt"},
		"TemperatureAboveTwo":          {map[string]any{"temperature": 2.5}, "temperature"},
		"NullTemperature":              {map[string]any{"temperature": nil}, "temperature"},
		"UnknownModel":                 {map[string]any{"model": "nope"}, "model"},
		"NullModel":                    {map[string]any{"model": nil}, "model"},
		"NullIsPublic":                 {map[string]any{"is_public": nil}, "is_public"},
		"ReadOnlyStatus":               {map[string]any{"status": "active"}, "status"},
		"ReadOnlyOwner":                {map[string]any{"owner_id": "3f0c6b0e-8a5e-4d4c-9d0b-6b1f2f1f6d2a"}, "owner_id"},
		"ReadOnlyId":                   {map[string]any{"id": "3f0c6b0e-8a5e-4d4c-9d0b-6b1f2f1f6d2a"}, "id"},
		"UnknownField":                 {map[string]any{"version": 9}, "version"},
	}
	for name, c := range refused {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			u := newUser(t)
			bot := e.createBot(u, map[string]any{"name": "Unchanged"})
			p := e.put(u, botPath(bot.Id), c.body, nil).problem(t, http.StatusUnprocessableEntity)
			require.Contains(t, fieldsOf(p), "body:"+c.field)
			var after api.BotResponse
			e.get(u, botPath(bot.Id)).decode(t, &after)
			require.Equal(t, bot, after, "a refused update changes nothing")
		})
	}
	t.Run("MaximaAreAccepted", func(t *testing.T) {
		t.Parallel()
		u := newUser(t)
		bot := e.createBot(u, map[string]any{"name": "Max"})
		res := e.put(u, botPath(bot.Id), map[string]any{
			"name": strings.Repeat("é", 100), "description": strings.Repeat("é", 500),
			"system_prompt": strings.Repeat("é", 1000), "temperature": 2,
		}, nil)
		require.Equal(t, http.StatusOK, res.code, string(res.body))
	})
}

func TestDuplicateBodies(t *testing.T) {
	t.Parallel()
	e := setup(t)
	u := newUser(t)
	src := e.createBot(u, map[string]any{"name": "Source"})
	require.Equal(t, http.StatusCreated, e.do(request{method: http.MethodPost, path: botPath(src.Id, "/duplicate"), as: &u}).code, "no body at all")
	require.Equal(t, http.StatusCreated, e.post(u, botPath(src.Id, "/duplicate"), map[string]any{}).code)
	for name, c := range map[string]struct {
		body  map[string]any
		field string
	}{
		"EmptyName":    {map[string]any{"name": ""}, "name"},
		"LongName":     {map[string]any{"name": strings.Repeat("é", 101)}, "name"},
		"UnknownField": {map[string]any{"model": "gpt-4o"}, "model"},
		"StringPublic": {map[string]any{"is_public": "yes"}, "is_public"},
	} {
		t.Run(name, func(t *testing.T) {
			p := e.post(u, botPath(src.Id, "/duplicate"), c.body).problem(t, http.StatusUnprocessableEntity)
			require.Contains(t, fieldsOf(p), "body:"+c.field)
		})
	}
	require.Equal(t, 3, e.countRows(u))
}

// TestTransportErrors covers what is wrong before any field is read.
func TestTransportErrors(t *testing.T) {
	t.Parallel()
	e := setup(t)
	u := newUser(t)
	cases := map[string]struct {
		body        string
		contentType string
		status      int
		typ         string
	}{
		"MalformedJSON":           {`{"name":`, "", 400, "/problems/bad-request"},
		"TrailingGarbage":         {`{"name":"a","model":"gpt-4o"} x`, "", 400, "/problems/bad-request"},
		"InvalidUTF8":             {"{\"name\":\"\xff\xfe\",\"model\":\"gpt-4o\"}", "", 400, "/problems/bad-request"},
		"LoneHighSurrogate":       {`{"name":"\ud800","model":"gpt-4o"}`, "", 400, "/problems/bad-request"},
		"LoneLowSurrogate":        {`{"name":"a\udc00","model":"gpt-4o"}`, "", 400, "/problems/bad-request"},
		"HighSurrogateThenLetter": {`{"name":"\ud800x","model":"gpt-4o"}`, "", 400, "/problems/bad-request"},
		"DeepNesting":             {`{"name":` + strings.Repeat("[", 10001) + strings.Repeat("]", 10001) + `}`, "", 400, "/problems/bad-request"},
		"HugeNumber":              {`{"name":"n","model":"gpt-4o","temperature":1e400}`, "", 0, ""},
		"TextPlain":               {`{"name":"n","model":"gpt-4o"}`, "text/plain", 415, "/problems/unsupported-media-type"},
		"XML":                     {`<bot/>`, "application/xml", 415, "/problems/unsupported-media-type"},
		"FormEncoded":             {`name=n`, "application/x-www-form-urlencoded", 415, "/problems/unsupported-media-type"},
		"Over64KiB":               {`{"name":"n","model":"gpt-4o","description":"` + strings.Repeat("a", 70<<10) + `"}`, "", 413, "/problems/payload-too-large"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			res := e.do(request{method: http.MethodPost, path: "/api/v1/bots", as: &u, body: c.body, contentType: c.contentType})
			if c.status == 0 {
				require.GreaterOrEqual(t, res.code, 400)
				require.Less(t, res.code, 500)
				return
			}
			require.Equal(t, c.typ, res.problem(t, c.status).Type)
		})
	}
	t.Run("MissingContentTypeWithABody", func(t *testing.T) {
		t.Parallel()
		req := request{method: http.MethodPost, path: "/api/v1/bots", as: &u, body: `{"name":"n","model":"gpt-4o"}`, header: map[string]string{"Content-Type": ""}}
		require.Equal(t, http.StatusUnsupportedMediaType, e.do(req).code)
	})
	t.Run("JSONWithCharsetIsAccepted", func(t *testing.T) {
		t.Parallel()
		res := e.do(request{method: http.MethodPost, path: "/api/v1/bots", as: &u, body: `{"name":"Charset","model":"gpt-4o"}`, contentType: "application/json; charset=utf-8"})
		require.Equal(t, http.StatusCreated, res.code, string(res.body))
	})
	t.Run("ASurrogatePairIsAccepted", func(t *testing.T) {
		t.Parallel()
		res := e.do(request{method: http.MethodPost, path: "/api/v1/bots", as: &u, body: `{"name":"Smile \ud83d\ude00","model":"gpt-4o"}`})
		require.Equal(t, http.StatusCreated, res.code, string(res.body))
		var b api.BotResponse
		res.decode(t, &b)
		require.Equal(t, "Smile 😀", b.Name)
	})
	t.Run("AnEscapedBackslashIsNoSurrogate", func(t *testing.T) {
		t.Parallel()
		res := e.do(request{method: http.MethodPost, path: "/api/v1/bots", as: &u, body: `{"name":"path \\ud800","model":"gpt-4o"}`})
		require.Equal(t, http.StatusCreated, res.code, string(res.body))
		var b api.BotResponse
		res.decode(t, &b)
		require.Equal(t, `path \ud800`, b.Name)
	})
}

func TestQueryParameterBounds(t *testing.T) {
	t.Parallel()
	e := setup(t)
	u := newUser(t)
	for _, q := range []string{"limit=0", "limit=101", "limit=-1", "limit=1e99", "limit=abc",
		"limit=99999999999999999999", "skip=-1", "skip=abc", "skip=99999999999999", "sort=owner_id",
		"status=deleted", "is_public=maybe", "q=" + strings.Repeat("a", 201), "q=", "model="} {
		t.Run(q[:min(len(q), 30)], func(t *testing.T) {
			t.Parallel()
			p := e.get(u, "/api/v1/bots?"+q).problem(t, http.StatusUnprocessableEntity)
			name, _, _ := strings.Cut(q, "=")
			require.Equal(t, []string{"query:" + name}, fieldsOf(p))
		})
	}
	for _, q := range []string{"q=%FF", "q=%00", "model=%C3%28"} {
		t.Run("Unreadable"+q, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, "/problems/bad-request", e.get(u, "/api/v1/bots?"+q).problem(t, http.StatusBadRequest).Type)
		})
	}
	for _, q := range []string{"limit=1", "limit=100", "skip=0", "skip=1000000000", "q=" + strings.Repeat("a", 200), "junk=" + strings.Repeat("x", 4000)} {
		t.Run("Accepted"+q[:min(len(q), 20)], func(t *testing.T) {
			t.Parallel()
			require.Equal(t, http.StatusOK, e.get(u, "/api/v1/bots?"+q).code)
		})
	}
}

func TestMalformedBotIDs(t *testing.T) {
	t.Parallel()
	e := setup(t)
	u := newUser(t)
	for _, id := range []string{"abc", "123", "3f0c6b0e-8a5e-4d4c-9d0b-6b1f2f1f6d2a0", "%00", "3f0c6b0e8a5e4d4c9d0b6b1f2f1f6d2a"} {
		for _, op := range []struct{ method, suffix string }{
			{http.MethodGet, ""}, {http.MethodPut, ""}, {http.MethodDelete, "?confirm=true"},
			{http.MethodPost, "/restore"}, {http.MethodPost, "/duplicate"}, {http.MethodPost, "/train"},
		} {
			t.Run(op.method+op.suffix+"/"+id, func(t *testing.T) {
				t.Parallel()
				path, query, _ := strings.Cut(op.suffix, "?")
				target := "/api/v1/bots/" + id + path
				if query != "" {
					target += "?" + query
				}
				r := request{method: op.method, path: target, as: &u}
				if op.method == http.MethodPut {
					r.body = map[string]any{"name": "x"}
				}
				p := e.do(r).problem(t, http.StatusUnprocessableEntity)
				require.Equal(t, []string{"path:bot_id"}, fieldsOf(p))
			})
		}
	}
}
