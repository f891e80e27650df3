package httpapi

import (
	"context"
	"slices"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/chatsphere/bots/gen/api"
	"github.com/chatsphere/bots/internal/bots"
)

// Conditional requests (RFC 9110 §13) on a bot: If-Match and If-None-Match, compared with the
// bot's version, which every change of the bot increments and which makes its ETag.

// listHeaders are the request headers whose value is a comma-separated list, so that
// several lines of one are the same as one line listing their values (RFC 9110 §5.3).
var listHeaders = []string{"If-Match", "If-None-Match"}

// joinListHeaders turns several lines of a list header into one, before the contract
// validates the header and the generated server reads it: kin-openapi would validate the
// first line only, and the generated server refuses a header sent on several lines (400).
func joinListHeaders(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		req := c.Request()
		for _, name := range listHeaders {
			if lines := req.Header[name]; len(lines) > 1 {
				if req == c.Request() {
					req = req.Clone(req.Context()) // a handler must not change the request it was given
				}
				req.Header[name] = []string{strings.Join(lines, ", ")}
			}
		}
		c.SetRequest(req)
		return next(c)
	}
}

// entityTags is an If-Match or If-None-Match header: "*", any current representation, or
// the entity tags it lists, and the versions those name. Values that are no entity tag name
// nothing, and tags this server never issued name no version.
type entityTags struct {
	sent     bool
	any      bool
	tags     []string
	versions []int64
}

// parseEntityTags reads a header; weak says whether weak tags (W/"3") count, as they do in
// the weak comparison of If-None-Match and do not in the strong one of If-Match.
func parseEntityTags(header *string, weak bool) entityTags {
	if header == nil {
		return entityTags{}
	}
	tags := entityTags{sent: true}
	for tag := range strings.SplitSeq(*header, ",") {
		tag = strings.TrimSpace(tag)
		if tag == "*" {
			tags.any = true
			continue
		}
		if weak {
			tag = strings.TrimPrefix(tag, "W/")
		}
		if len(tag) < 2 || tag[0] != '"' || tag[len(tag)-1] != '"' {
			continue
		}
		tags.tags = append(tags.tags, tag)
		opaque := tag[1 : len(tag)-1]
		v, err := strconv.ParseInt(opaque, 10, 64)
		if err == nil && strconv.FormatInt(v, 10) == opaque {
			tags.versions = append(tags.versions, v)
		}
	}
	return tags
}

// match reports whether the header names the version whose ETag is etag(version).
func (t entityTags) match(version int64) bool {
	return t.any || slices.Contains(t.versions, version)
}

// has reports whether the header names the strong entity tag tag, whatever its form.
func (t entityTags) has(tag string) bool {
	return t.any || slices.Contains(t.tags, tag)
}

// conditions are the preconditions of one request on a bot.
type conditions struct {
	ifMatch, ifNoneMatch entityTags
}

func newConditions(ifMatch, ifNoneMatch *string) conditions {
	return conditions{ifMatch: parseEntityTags(ifMatch, false), ifNoneMatch: parseEntityTags(ifNoneMatch, true)}
}

// ifMatchFails reports whether If-Match refuses the version; it is evaluated first.
func (c conditions) ifMatchFails(version int64) bool {
	return c.ifMatch.sent && !c.ifMatch.match(version)
}

// ifNoneMatchFails reports whether If-None-Match refuses the version: 304 for a read, 412
// for a write.
func (c conditions) ifNoneMatchFails(version int64) bool {
	return c.ifNoneMatch.sent && c.ifNoneMatch.match(version)
}

// precondition is the conditions as the service's conditional writes take them.
func (c conditions) precondition() bots.Precondition {
	var p bots.Precondition
	if c.ifMatch.sent && !c.ifMatch.any {
		p = bots.Precondition{Required: true, Versions: c.ifMatch.versions}
	}
	if c.ifNoneMatch.any {
		// Every existing bot matches "*".
		p = bots.Precondition{Required: true}
	}
	p.Except = c.ifNoneMatch.versions
	return p
}

// preconditionFailed is the 412 answer for a bot whose current version is version: it
// says which header failed, and gives the current ETag.
func preconditionFailed(ctx context.Context, c conditions, version int64) api.PreconditionFailedApplicationProblemPlusJSONResponse {
	detail := "the bot has changed since you read it (If-Match does not match its ETag); fetch it again and retry"
	if !c.ifMatchFails(version) && c.ifNoneMatchFails(version) {
		detail = "the bot's current ETag matches If-None-Match, so nothing was done"
		if c.ifNoneMatch.any {
			detail = "the bot exists, and If-None-Match: * asks for this only when it does not; nothing was done"
		}
	}
	return api.PreconditionFailedApplicationProblemPlusJSONResponse{
		Body:    newProblem(ctx, kindPreconditionFailed, detail),
		Headers: api.PreconditionFailedResponseHeaders{ETag: etag(version)},
	}
}
